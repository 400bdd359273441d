"""Dataset exports: completed tasks streamed out in the formats training code reads."""
