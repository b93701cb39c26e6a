"""The physics of a dual-energy scanner, one definition shared by the synthesiser, threat projection and the
inspection engine: photon cross sections (``xcom``, NIST tables in ``data/``), materials (``materials``), the
linac's bremsstrahlung spectra (``spectrum``), the CdWO4 detector's response (``detector``), the forward model
of a scan — transmission, blur, lag, crosstalk (``scanner``) — its noise (``noise``) and the inverse, the
dual-energy decomposition into areal density and effective Z (``decompose``).

It imports nothing from the rest of ``cargoscan``: the engine measures with the very physics the synthesiser
renders with, and needs no scene code to do it. Kept light: import the modules you need.
"""
