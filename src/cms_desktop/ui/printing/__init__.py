"""Printing screens: the print preview, the prescription editor and the Impressions area."""
