"""Data ownership: an organization takes out everything it owns, and deletes a project whole."""
