"""Receivers that write the authentication audit from Django's and axes' signals."""
