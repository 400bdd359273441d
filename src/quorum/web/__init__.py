"""The web app: worker, reviewer and customer pages served by ``quorum serve``."""
