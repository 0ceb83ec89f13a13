"""console.store"""
