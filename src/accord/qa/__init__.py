"""Quality: agreement between annotators (and, later, checks, gold, review)."""
