"""Feature networks in plain torch whose ``state_dict`` matches the reference weight files.

Importing this package does not import torchvision; each network lives in its own module.
"""
