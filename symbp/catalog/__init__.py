"""What a person adds: activations, losses, optimizers, layer kinds (one entry or one file each)."""
