"""Altcraft wire codec: the Loyalty API shapes, in and out."""
