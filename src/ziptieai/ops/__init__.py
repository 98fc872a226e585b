"""Every differentiable op, one small class each, grouped by kind.

elementwise  arithmetic, activations, clip/maximum/minimum/where, casts
reduce       sum, mean, max/min, softmax, log_softmax
movement     reshape, permute, indexing, concat, stack
linalg       matmul, the fused linear layer
"""
