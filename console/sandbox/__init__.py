"""console.sandbox"""
