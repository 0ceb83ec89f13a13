"""console.api"""
