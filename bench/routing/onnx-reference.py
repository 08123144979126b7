"""Reference sentence embeddings for bench/routing/onnx-reference.ts: the same model file and
tokenizer.json on Python onnxruntime + Hugging Face tokenizers, computed as sentence-transformers
does (truncation to 256 tokens, mean pooling over the attention mask, L2 normalisation).

usage: python onnx-reference.py MODEL.onnx TOKENIZER.json < sentences.json > result.json
stdin: a JSON array of strings; stdout: {"ids": [[int]], "embeddings": [[float]]}
"""
import json
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

model_path, tokenizer_path = sys.argv[1], sys.argv[2]
sentences = json.load(sys.stdin)
tokenizer = Tokenizer.from_file(tokenizer_path)
tokenizer.enable_truncation(max_length=256)
tokenizer.no_padding()
session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
inputs = {i.name for i in session.get_inputs()}
ids_out, embeddings = [], []
for text in sentences:
    enc = tokenizer.encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.array([enc.attention_mask], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in inputs:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = session.run(None, feeds)[0]
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    ids_out.append(enc.ids)
    embeddings.append(pooled[0].astype(float).tolist())
json.dump({"ids": ids_out, "embeddings": embeddings}, sys.stdout)
