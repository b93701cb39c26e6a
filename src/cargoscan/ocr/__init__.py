"""Automatic identification of wagons and containers: synthetic camera frames, OCR and RFID fusion.

The pipeline: :mod:`frames` renders side views of wagons and container doors with painted numbers
(:mod:`stencil`, :mod:`degrade`); :mod:`detect` finds the painted text, :mod:`model` reads it (CRNN + CTC, trained
by :mod:`train`, exported to ONNX); :mod:`fusion` corrects the reading under the check digit and compares it with
the RFID read, every acceptance decided by the rule table of :mod:`policy`; :mod:`identify` runs all of it over an
archive's frames into identification records (contract C).
"""
