"""console.webhooks"""
