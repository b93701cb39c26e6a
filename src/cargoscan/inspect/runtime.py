"""Inference backends: onnxruntime on the CPU, PyTorch on a GPU.

A backend maps a batch of normalised tiles ``(N, C, h, w)`` float32 to ``(mask_logits (N, K, h, w),
label_logits (N, M), embedding (N, D))``. The embedding is the encoder's globally pooled deepest feature map —
the input of the classification head — used by the reference library.

* ``onnx``: ``model.onnx`` as exported (contract D). The graph has only ``mask`` and ``label`` outputs, so the
  embedding output is exposed by adding the classification head's input (the tensor feeding the ``Gemm`` /
  ``MatMul`` that produces ``label``) as an extra graph output — no second model, no torch.
* ``torch``: ``model.safetensors`` into the SMP model of the artifact's ``arch``/``encoder``; batching, bf16
  autocast and channels_last. Imported only when asked for, so a CPU post never loads torch.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from cargoscan.models.artifact import ArtifactConfig

log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def _embedding_tensor(model) -> str | None:
    """Name of the tensor that feeds the classification head's linear layer, or None if not recognised."""
    producers = {o: n for n in model.graph.node for o in n.output}
    name = "label"
    for _ in range(8):  # walk back through Identity/Sigmoid/Softmax/Add(bias) to the linear layer
        node = producers.get(name)
        if node is None:
            return None
        if node.op_type in ("Gemm", "MatMul"):
            return node.input[0]
        if node.op_type in ("Add", "Identity", "Sigmoid", "Softmax", "Reshape", "Flatten"):
            name = node.input[0]
            continue
        return None
    return None


class OnnxBackend:
    """onnxruntime on the CPU, with the encoder embedding exposed as an extra output."""

    name = "onnx"

    def __init__(self, artifact_dir: str | Path, threads: int = 0):
        import onnx
        import onnxruntime as ort

        model = onnx.load(str(Path(artifact_dir) / "model.onnx"))
        check_finite({i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer})
        emb = _embedding_tensor(model)
        existing = {o.name for o in model.graph.output}
        if emb is not None and emb not in existing:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(emb))
        self.embedding_name = emb
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        self.outputs = ["mask", "label"] + ([emb] if emb is not None and emb not in ("mask", "label") else [])
        if emb is None:
            log.warning("model.onnx: classification head not recognised; embeddings fall back to label logits")

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = self.session.run(self.outputs, {"image": np.ascontiguousarray(batch, dtype=np.float32)})
        mask, label = out[0], out[1]
        emb = out[2] if len(out) > 2 else label
        return mask, label, emb.reshape(emb.shape[0], -1)


def check_finite(weights: dict[str, np.ndarray]) -> None:
    """Refuse weights holding NaN or inf (they pass a hash recorded after they were written)."""
    bad = [name for name, w in weights.items() if np.issubdtype(np.asarray(w).dtype, np.floating)
           and not np.isfinite(w).all()]
    if bad:
        raise ValueError(f"веса содержат NaN/inf: {', '.join(bad[:3])}")


def build_torch_model(cfg: ArtifactConfig):
    """The SMP network of an artifact (random weights; the caller loads ``model.safetensors``).

    The training side's ``cargoscan.models.build_model`` builds exactly what it trained; an artifact that records
    extra SMP arguments (``extra.model_kwargs``) is built with them directly.
    """
    kwargs = dict(cfg.extra.get("model_kwargs", {}))
    if not kwargs:
        try:
            from cargoscan.models import build_model  # type: ignore[attr-defined]

            return build_model(cfg)
        except ImportError:
            pass
    import segmentation_models_pytorch as smp

    return smp.create_model(cfg.arch, encoder_name=cfg.encoder, encoder_weights=None,
                            in_channels=len(cfg.in_channels), classes=len(cfg.classes),
                            aux_params={"classes": len(cfg.categories)}, **kwargs)


class TorchBackend:
    """PyTorch (SMP) on a GPU or CPU: bf16 autocast and channels_last on CUDA."""

    name = "torch"

    def __init__(self, artifact_dir: str | Path, cfg: ArtifactConfig, device: str = "cuda", bf16: bool = True,
                 channels_last: bool = True, model_factory: Callable | None = None):
        import torch
        from safetensors.torch import load_file

        self.torch = torch
        self.device = torch.device(device)
        model = (model_factory or build_torch_model)(cfg)
        state = load_file(str(Path(artifact_dir) / "model.safetensors"))
        check_finite({k: v.float().numpy() for k, v in state.items() if v.is_floating_point()})
        model.load_state_dict(state)
        model.eval().to(self.device)
        self.channels_last = channels_last and self.device.type == "cuda"
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.bf16 = bf16 and self.device.type == "cuda"
        self.model = model

    def forward(self, x):
        """Tensor in, tensors out (mask, label, embedding), no host copies: used by the GPU benchmark."""
        torch = self.torch
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            if hasattr(self.model, "encoder") and hasattr(self.model, "decoder"):
                feats = self.model.encoder(x)
                dec = self.model.decoder(*feats) if _takes_varargs(self.model.decoder) else self.model.decoder(feats)
                mask = self.model.segmentation_head(dec)
                label = self.model.classification_head(feats[-1])
                emb = feats[-1].float().mean(dim=(2, 3))
            else:
                mask, label = self.model(x)
                emb = label
        return mask.float(), label.float(), emb.float()

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = self.torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device, non_blocking=True)
        mask, label, emb = self.forward(x)
        return mask.cpu().numpy(), label.cpu().numpy(), emb.cpu().numpy()


def _takes_varargs(decoder) -> bool:
    """SMP 0.5 decoders take the feature list as one argument; older ones take ``*features``."""
    import inspect

    params = list(inspect.signature(decoder.forward).parameters.values())
    return any(p.kind == p.VAR_POSITIONAL for p in params)


BACKENDS: dict[str, Callable[..., Backend]] = {
    "onnx": lambda artifact_dir, cfg, params: OnnxBackend(artifact_dir, threads=params.threads),
    "torch": lambda artifact_dir, cfg, params: TorchBackend(artifact_dir, cfg, device=params.device,
                                                            bf16=params.bf16, channels_last=params.channels_last),
}


def list_backends() -> list[str]:
    return sorted(BACKENDS)


def create_backend(name: str, artifact_dir: str | Path, cfg: ArtifactConfig, params) -> Backend:
    """Build the backend ``name`` for an artifact."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {list_backends()}")
    return BACKENDS[name](artifact_dir, cfg, params)
