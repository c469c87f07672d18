"""The numba backend: ``kernels`` implements the kernel contract; ``tiles``, ``fd`` and ``network`` hold its
parts; ``calls`` says how Python calls them (short launches, so Ctrl-C is seen); ``cache`` keys Numba's
on-disk cache to all of these files at once (installed here, before any kernel is defined).

OpenMP's workers spin-wait for work by default (GNU libgomp spins for a while before sleeping), and on two
busy cores a spinning worker holds the core the other thread needs: a CIFAR-sized mini-batch step took 8 ms
instead of 2.6 ms with the machine loaded. Unless the user set it, ``OMP_WAIT_POLICY`` is made ``PASSIVE``
(workers sleep) before numba loads its OpenMP threading layer. It has no effect when another library
initialized OpenMP earlier in the process; ``steepest info`` shows the policy in force.
"""

import os

from .cache import install

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
install()
