"""spec -> graph: symbp's SymPy nodes, the ops of the forward graph, the build from a spec."""
