//! Spike detection on listening series: volume and negative share per query, robust seasonal baseline (median and MAD by hour of week) plus EWMA, sensitivity, minimum volume, cooldown.
