"""Physics-grounded synthetic dual-energy rail-cargo scanner.

The physics it renders with (materials, spectra, detector, the forward model, noise, decomposition) is
:mod:`cargoscan.physics`, shared with threat projection and the engine; here are the scenes (wagons, cargo,
concealment), the generator and the realism statistics. Kept light: import the modules you need.
"""
