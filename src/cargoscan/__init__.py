"""cargoscan: dual-energy rail-cargo X-ray inspection.

Subpackages, one per part of the system:

* ``archive``  – the scan archive format (TIFF pages, sidecars, tables, labels) and its validation.
* ``ids``      – wagon (1520 mm gauge) and ISO 6346 container numbers with their check digits.
* ``synth``    – the physics-grounded synthetic scanner (scenes, XCOM attenuation, detector, noise).
* ``data``     – prepare stage: validation, physical channels, tiling, splits; datasets and augmentation.
* ``models``   – the segmentation model registry (SMP) and export.
* ``training`` – Lightning module, data module, training and evaluation stages.
* ``inspect``  – the deployable inspection engine (onnxruntime/PyTorch, no Lightning/DVC/MLflow).
* ``registry`` – scan registry, routing, release with identity, hash-chained audit trail, API.
* ``ocr``      – camera frames, number recognition and RFID fusion.
* ``tip``      – import of real scans and threat image projection.
"""

__version__ = "0.1.0"
