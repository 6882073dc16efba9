"""graph -> Derivation: the rule table, the generic reverse pass, the lecture's simplifications and chains."""
