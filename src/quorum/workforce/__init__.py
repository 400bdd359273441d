"""Workers, their qualifications and which projects they may work on."""
