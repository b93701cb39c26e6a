"""Training, evaluation and export of the segmentation models (Lightning, MLflow)."""
