"""Optimizer update rules as small pure functions on NumPy arrays, updating in place.

Each reads as its formula (in the docstring) and follows torch.optim's single-tensor code in
operation order, so the classes in this package only gather hyper-parameters and state and
call these. Inside the math the names are the textbook's (g, m, v, b); the state keys the
classes keep are torch's (`exp_avg` = m, `exp_avg_sq` = v, `momentum_buffer` = b, ...).

Every rule updates `param` and its state arrays in place, using two scratch arrays of the
param's shape (made when not given). The state arrays are made by the caller, so they can be
views into one flat buffer; and the same function then serves one tensor or an L2-sized
chunk of all of them at once (`optim.flat`), never making a temporary the size of the model.
"""

from __future__ import annotations

import numpy as np


def scratch_for(param: np.ndarray, scratch=None) -> tuple:
    """Two work arrays shaped like `param` (views of `scratch` when given)."""
    if scratch is None:
        return np.empty_like(param), np.empty_like(param)
    return tuple(s[: param.size].reshape(param.shape) for s in scratch)


def effective_grad(grad, param, out, *, weight_decay: float = 0.0, maximize: bool = False):
    """g' = (-g if maximize else g) + λ·w  (coupled weight decay λ), written to `out` when it
    differs from g; the caller's gradient is never changed."""
    if weight_decay:
        np.multiply(param, weight_decay, out=out)
        if maximize:
            out -= grad
        else:
            out += grad
        return out
    if maximize:
        return np.negative(grad, out=out)
    return grad


def lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """start ← start + weight·(end - start), in place, in torch.lerp's two forms (the second,
    end - (end - start)·(1 - weight), for weight >= 0.5)."""
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        np.subtract(end, tmp, out=start)


def ema_square_(avg: np.ndarray, g: np.ndarray, decay: float, tmp: np.ndarray) -> None:
    """avg ← decay·avg + (1 - decay)·g², in place (torch: avg.mul_(β).addcmul_(g, g, 1-β))."""
    avg *= decay
    np.multiply(g, 1 - decay, out=tmp)
    tmp *= g
    avg += tmp


def adam_moments_(param, grad, exp_avg, exp_avg_sq, a, b, *, lr: float, beta1: float,
                  beta2: float, weight_decay: float, decoupled_weight_decay: bool,
                  maximize: bool):
    """What Adam, NAdam and RAdam share; returns the effective gradient g (in `a` or grad):

        w ← w·(1 - lr·λ) if decoupled, else g ← g + λ·w     (weight_decay λ)
        m ← β₁·m + (1 - β₁)·g;   v ← β₂·v + (1 - β₂)·g²      (exp_avg, exp_avg_sq)
    """
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
        g = effective_grad(grad, param, a, maximize=maximize)
    else:
        g = effective_grad(grad, param, a, weight_decay=weight_decay, maximize=maximize)
    lerp_(exp_avg, g, 1 - beta1, b)
    ema_square_(exp_avg_sq, g, beta2, b)
    return g


def sgd_step(param, grad, momentum_buffer=None, *, step: int, lr: float, momentum: float = 0.0,
             dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
             maximize: bool = False, scratch=None) -> None:
    """Stochastic gradient descent (torch.optim.SGD):

        g ← -g if maximize;  g ← g + λ·w                       (weight_decay λ)
        b ← g at step 1, else b ← μ·b + (1 - τ)·g               (momentum μ, dampening τ)
        g ← g + μ·b if nesterov, else b                         (only with momentum)
        w ← w - lr·g
    """
    a, b = scratch_for(param, scratch)
    g = effective_grad(grad, param, a, weight_decay=weight_decay, maximize=maximize)
    if momentum:
        if step == 1:
            np.copyto(momentum_buffer, g)
        else:
            momentum_buffer *= momentum
            np.multiply(g, 1 - dampening, out=b)
            momentum_buffer += b
        if nesterov:
            np.multiply(momentum_buffer, momentum, out=b)
            b += g
            g = b
        else:
            g = momentum_buffer
    np.multiply(g, lr, out=b)
    param -= b


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step: int, lr: float,
              beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
              weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
              decoupled_weight_decay: bool = False, scratch=None) -> None:
    """Adam (Kingma & Ba 2015), and AdamW with decoupled_weight_decay (Loshchilov & Hutter):

        w ← w·(1 - lr·λ) if decoupled, else g ← g + λ·w
        m ← β₁·m + (1 - β₁)·g                      (exp_avg: the mean of recent gradients)
        v ← β₂·v + (1 - β₂)·g²                     (exp_avg_sq: their mean square)
        v̂max ← max(v̂max, v) if amsgrad              (max_exp_avg_sq)
        m̂ = m / (1 - β₁ᵗ),  v̂ = v / (1 - β₂ᵗ)        (bias corrections, t = step)
        w ← w - lr·m̂ / (√v̂ + ε)

    As torch computes it: denom = √v / √(1 - β₂ᵗ) + ε, then w ← w - (lr / (1 - β₁ᵗ))·m / denom.
    """
    a, b = scratch_for(param, scratch)
    g = adam_moments_(param, grad, exp_avg, exp_avg_sq, a, b, lr=lr, beta1=beta1, beta2=beta2,
                      weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay,
                      maximize=maximize)
    step_size = lr / (1 - beta1**step)
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        np.sqrt(max_exp_avg_sq, out=b)
    else:
        np.sqrt(exp_avg_sq, out=b)
    b /= bias_correction2_sqrt
    b += eps
    np.divide(exp_avg, b, out=a)
    a *= -step_size
    param += a


def rmsprop_step(param, grad, square_avg, momentum_buffer=None, grad_avg=None, *, step: int,
                 lr: float, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, maximize: bool = False,
                 scratch=None) -> None:
    """RMSprop (Hinton 2012; torch.optim.RMSprop):

        g ← g + λ·w;   v ← α·v + (1 - α)·g²             (square_avg)
        ḡ ← α·ḡ + (1 - α)·g;   v' = v - ḡ² if centered   (grad_avg)
        d = √v' + ε
        b ← μ·b + g/d,  w ← w - lr·b   with momentum μ > 0; else  w ← w - lr·g/d
    """
    a, b = scratch_for(param, scratch)
    g = effective_grad(grad, param, a, weight_decay=weight_decay, maximize=maximize)
    ema_square_(square_avg, g, alpha, b)
    if centered:
        lerp_(grad_avg, g, 1 - alpha, b)
        np.multiply(grad_avg, grad_avg, out=b)
        np.subtract(square_avg, b, out=b)
        np.sqrt(b, out=b)
    else:
        np.sqrt(square_avg, out=b)
    b += eps
    if momentum > 0:
        momentum_buffer *= momentum
        np.divide(g, b, out=b)
        momentum_buffer += b
        np.multiply(momentum_buffer, -lr, out=b)
    else:
        np.divide(g, b, out=b)
        b *= -lr
    param += b


def adagrad_step(param, grad, state_sum, *, step: int, lr: float, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, eps: float = 1e-10, maximize: bool = False,
                 scratch=None) -> None:
    """Adagrad (Duchi et al. 2011; torch.optim.Adagrad):

        g ← g + λ·w;   s ← s + g²                       (sum)
        lr_t = lr / (1 + (t - 1)·lr_decay)
        w ← w - lr_t·g / (√s + ε)
    """
    a, b = scratch_for(param, scratch)
    g = effective_grad(grad, param, a, weight_decay=weight_decay, maximize=maximize)
    np.multiply(g, g, out=b)
    state_sum += b
    clr = lr / (1 + (step - 1) * lr_decay)
    np.sqrt(state_sum, out=b)
    b += eps
    np.divide(g, b, out=b)
    b *= -clr
    param += b


def nadam_step(param, grad, exp_avg, exp_avg_sq, mu_product: float, *, step: int, lr: float,
               beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
               weight_decay: float = 0.0, momentum_decay: float = 4e-3,
               decoupled_weight_decay: bool = False, maximize: bool = False,
               scratch=None) -> float:
    """NAdam (Dozat 2016; torch.optim.NAdam): Adam with Nesterov momentum. Returns the new
    mu_product (Π μ_i).

        μ_t = β₁·(1 - ½·0.96^(t·ψ)),  μ_{t+1} likewise      (momentum_decay ψ)
        m ← β₁·m + (1 - β₁)·g;   v ← β₂·v + (1 - β₂)·g²
        d = √(v / (1 - β₂ᵗ)) + ε
        w ← w - lr·(1 - μ_t)/(1 - Πμ_t) · g/d - lr·μ_{t+1}/(1 - Πμ_{t+1}) · m/d
    """
    a, b = scratch_for(param, scratch)
    bias_correction2 = 1 - beta2**step
    g = adam_moments_(param, grad, exp_avg, exp_avg_sq, a, b, lr=lr, beta1=beta1, beta2=beta2,
                      weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay,
                      maximize=maximize)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    # NOTE: torch keeps mu_product in a float32 scalar tensor (its default scalar dtype), so
    # the running product is rounded to float32 each step; done the same way here to match.
    mu_product = float(np.float32(mu_product) * np.float32(mu))
    np.divide(exp_avg_sq, bias_correction2, out=b)
    np.sqrt(b, out=b)
    b += eps
    mu_product_next = mu_product * mu_next
    np.divide(g, b, out=a)
    a *= -lr * (1.0 - mu) / (1.0 - mu_product)
    param += a
    np.divide(exp_avg, b, out=a)
    a *= (-lr * mu_next) / (1.0 - mu_product_next)
    param += a
    return mu_product


def radam_step(param, grad, exp_avg, exp_avg_sq, *, step: int, lr: float, beta1: float = 0.9,
               beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
               decoupled_weight_decay: bool = False, maximize: bool = False,
               scratch=None) -> None:
    """RAdam (Liu et al. 2020; torch.optim.RAdam): Adam whose adaptive step is switched on only
    once the variance of v̂ is tractable (ρ_t > 5), and rectified by r_t:

        m ← β₁·m + (1 - β₁)·g;   v ← β₂·v + (1 - β₂)·g²
        ρ∞ = 2/(1 - β₂) - 1,   ρ_t = ρ∞ - 2t·β₂ᵗ/(1 - β₂ᵗ)
        r_t = √((ρ_t - 4)(ρ_t - 2)ρ∞ / ((ρ∞ - 4)(ρ∞ - 2)ρ_t))
        w ← w - lr·m̂·r_t·√(1 - β₂ᵗ)/(√v + ε)   if ρ_t > 5,  else  w ← w - lr·m̂
    """
    a, b = scratch_for(param, scratch)
    g = adam_moments_(param, grad, exp_avg, exp_avg_sq, a, b, lr=lr, beta1=beta1, beta2=beta2,
                      weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay,
                      maximize=maximize)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    np.divide(exp_avg, bias_correction1, out=a)  # m̂ (g is no longer needed)
    a *= lr
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        np.sqrt(exp_avg_sq, out=b)
        b += eps
        np.divide(bias_correction2**0.5, b, out=b)
        a *= b
        a *= rect
    param -= a
