"""park"""
