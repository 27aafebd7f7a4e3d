"""Quality: cross-modal checks, agreement, review tiers, gold items and consensus."""
