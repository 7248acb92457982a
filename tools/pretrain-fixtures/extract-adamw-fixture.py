#!/usr/bin/env python3
"""Copies the parts of the reference fixture `ssl-head-small` that @swinmm/train's tests need.

Usage: python3 tools/pretrain-fixtures/extract-adamw-fixture.py <fixtures>/ssl-head-small packages/train/test/fixtures

Writes `adamw-step.safetensors` (the stored gradients `grad.<p>` and the values after one AdamW
step `adamw.<p>` of five parameters, bytes unchanged) and `adamw-step.json` (the AdamW
hyper-parameters, the weight sha256 of those parameters, the tensor sha256s, the learning-rate
schedule values and the PyTorch shape of every parameter), so the tests never read the shared fixture folder. Standard library only.
"""
import hashlib
import json
import os
import struct
import sys


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    base = 8 + n
    return {k: (v, raw[base + v['data_offsets'][0]: base + v['data_offsets'][1]]) for k, v in header.items()}


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    offset = 0
    for name, (info, data) in tensors.items():
        header[name] = {'dtype': info['dtype'], 'shape': info['shape'], 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for _, (_, data) in tensors.items():
            f.write(data)
    os.replace(tmp, path)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    io = json.load(open(os.path.join(src, 'io.json')))
    tensors = read_safetensors(os.path.join(src, 'io.safetensors'))
    names = sorted(k[len('adamw.'):] for k in tensors if k.startswith('adamw.'))
    picked = {}
    for p in names:
        for prefix in ('grad.', 'adamw.'):
            info, data = tensors[prefix + p]
            assert hashlib.sha256(data).hexdigest() == io['tensors'][prefix + p]['sha256'], prefix + p
            picked[prefix + p] = (info, data)
    os.makedirs(dst, exist_ok=True)
    write_safetensors(os.path.join(dst, 'adamw-step.safetensors'), picked, {'format': 'pt', 'source': 'ssl-head-small/io.safetensors'})
    out = {
        'source': 'reference fixture ssl-head-small (io.json / io.safetensors), SwinMM @ dbc6fc5, torch 1.13.1 CPU fp32',
        'adamw': {k: v for k, v in io['results']['adamw'].items() if k != 'updated'},
        'updated': io['results']['adamw']['updated'],
        'params': {p: {'shape': io['weight_sha256'][p]['shape'], 'sha256': io['weight_sha256'][p]['sha256'], 'init': io['weight_sha256'][p]['init']} for p in names},
        'tensor_sha256': {k: io['tensors'][k]['sha256'] for k in picked},
        'grad_l2_norm': {p: io['results']['grad_l2_norm_every_param'][p] for p in names},
        'lr_schedules': io['lr_schedules'],
        'param_shapes': {p: v['shape'] for p, v in io['weight_sha256'].items()},
    }
    with open(os.path.join(dst, 'adamw-step.json'), 'w') as f:
        json.dump(out, f, indent=1)
    print('wrote', len(picked), 'tensors for', names)


if __name__ == '__main__':
    main()
