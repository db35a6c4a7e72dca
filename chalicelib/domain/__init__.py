"""The domain: plain Python, no AWS. Rules of selling, stock and orders live here."""
