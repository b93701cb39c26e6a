"""Physics-grounded synthetic dual-energy rail-cargo scanner.

Physics (materials, spectra, detector, projection and noise, dual-energy decomposition) lives in
``xcom``, ``materials``, ``spectrum``, ``detector``, ``physics``, ``decompose`` and ``realism``; scenes (wagons,
cargo, concealment) and the generator in the other modules. Kept light: import the modules you need.
"""
