"""console.sync"""
