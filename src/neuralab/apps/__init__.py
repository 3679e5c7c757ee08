"""Applications built on the library, which the command line runs: the demo of the lecture's
practicals (``neuralab demo``) and the tabular trainer (``neuralab train FILE.csv``).

The library below (autograd, nn, optim, data, io, train) never imports from here.
"""
