"""Special functions (erf family, gamma family, Bessel I, Hurwitz zeta) as ops.

The array API standard has none of these, so each forward is written here from
standard functions only: fixed-length series, Chebyshev expansions and
asymptotic expansions, selected with ``xp.where`` (no Python branch on values),
so they run on every backend and in float32 or float64 (accurate to a few
units in the last place of float64 over the ranges the tests cover). Every VJP
is a closed formula in standard functions and these ops (``call``), so second
and higher derivatives come from the same rules; JVPs follow from the VJPs
(the Jacobians are diagonal).

Algorithms:

* ``erfcx(x) = exp(x^2) erfc(x)`` for x >= 0: a Chebyshev expansion in
  ``t = (x - 4) / (x + 4)`` on [0, 12) (coefficients computed with mpmath at
  40 digits), the asymptotic series above; ``erfc = exp(-x^2) erfcx`` with
  ``exp(-x^2)`` split so that it keeps full precision; ``erf`` by its Taylor
  series for |x| < 1, else ``1 - erfc``.
* ``erfinv`` / ``ndtri``: a rough closed-form guess refined by three Halley
  steps on ``erf`` (central) or ``erfc`` (tails, so 1 - p keeps its digits).
* ``lgamma`` / ``digamma``: Stirling's series at x >= 10 (Bernoulli numbers
  computed exactly at import), the recurrence below, reflection for x < 0.5.
* ``polygamma(n)`` (n >= 1) and ``zeta(s, q)``: Euler-Maclaurin summation.
* ``i0``, ``i1`` and their scaled forms: the power series for |x| < 20, the
  asymptotic expansion above.
* ``gammainc`` / ``gammaincc``: the power series below x = a + 1, the continued
  fraction above, both to a fixed depth.

A backend may offer native versions (``Backend.special_function``: SciPy on
NumPy, ``cupyx.scipy.special`` on CuPy); forwards use them on real float arrays
where present (``USE_NATIVE``), the portable ones otherwise (array-api-strict,
Dask, recorded mode never needs them: only forwards call them).
"""

from __future__ import annotations

import math
from fractions import Fraction

from .._tensor import apply, binary
from ._registry import ELEMENTWISE, call, defop

__all__ = ["erf", "erfc", "erfcx", "erfinv", "ndtri", "log_ndtr", "lgamma", "digamma",
           "polygamma", "zeta", "i0", "i0e", "i1", "i1e",
           "ERF", "ERFC", "ERFCX", "ERFINV", "NDTRI", "LOG_NDTR", "LGAMMA", "DIGAMMA",
           "POLYGAMMA", "ZETA", "I0", "I0E", "I1", "I1E"]

_SQRT_PI = math.sqrt(math.pi)
_2_SQRT_PI = 2.0 / _SQRT_PI
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _bernoulli(n):
    """B_0 .. B_n exactly (B_1 = -1/2)."""
    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


_B = _bernoulli(40)
_B2 = [float(_B[2 * j]) for j in range(1, 21)]  # B_2, B_4, ..., B_40


def _horner(xp, coeffs, y, like):
    """sum(c_k y^k), highest power last in ``coeffs``."""
    acc = xp.zeros_like(like) + coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * y + c
    return acc


def _safe(xp, cond, x, value):
    """``x`` where ``cond`` holds, ``value`` elsewhere (keeps unused branches finite)."""
    return xp.where(cond, x, value)


# -- precision -------------------------------------------------------------------------------
def _float_bits(v):
    """16, 32 or 64 for a real floating array (any backend), None otherwise."""
    dt = getattr(v, "dtype", None)
    name = str(dt).rsplit(".", 1)[-1].split("'")[0]
    return {"float16": 16, "bfloat16": 16, "float32": 32, "float64": 64}.get(name)


def _widen(forward, bits=32):
    """``forward`` computed in at least ``bits``-bit floats, the result cast back: half
    precision has too few digits for the series, and the gamma family's recurrences and
    reflections cancel digits that float32 does not have to spare (``bits=64``)."""
    def wrapped(xp, *args, **params):
        narrow = [a for a in args if (_float_bits(a) or 64) < bits]
        if not narrow:
            return forward(xp, *args, **params)
        wide = xp.float64 if bits == 64 else xp.float32
        out = forward(xp, *[xp.astype(a, wide) if (_float_bits(a) or 64) < bits else a
                            for a in args], **params)
        return xp.astype(out, narrow[0].dtype)
    wrapped.__name__ = forward.__name__
    return wrapped


def _via_float64(forward):
    return _widen(forward, 64)


# -- native fast paths -------------------------------------------------------------------------
USE_NATIVE = True  # False: always the portable versions (tests check them on every backend)
_NATIVE_CACHE: dict = {}


def _native(xp, name):
    """The backend's own ``name`` (SciPy's spelling) for raw arrays, or None."""
    backend = getattr(xp, "__xgrad_backend__", None)
    if backend is None or not USE_NATIVE:
        return None
    key = (id(backend), name)
    if key not in _NATIVE_CACHE:
        lookup = getattr(backend, "special_function", None)
        _NATIVE_CACHE[key] = lookup(name) if lookup is not None else None
    return _NATIVE_CACHE[key]


def _real_floating(v):
    """A Python float, or a float32/float64 array (the native functions' own dtypes)."""
    return isinstance(v, float) if getattr(v, "dtype", None) is None else _float_bits(v) in (32, 64)


def _fast(name, portable, call_native=None, fixup=None):
    """``portable`` (the forward written against the standard), replaced by the
    backend's native ``name`` where it has one and the inputs are real floats.
    ``call_native(fn, *args, **params)`` adapts the call, ``fixup(xp, out, *args)``
    PyTorch's values where the native function differs."""
    def forward(xp, *args, **params):
        fn = _native(xp, name)
        if fn is not None and all(_real_floating(a) for a in args):
            out = call_native(fn, *args, **params) if call_native else fn(*args)
            return fixup(xp, out, *args) if fixup else out
        return portable(xp, *args, **params)
    forward.__name__ = getattr(portable, "__name__", name)
    forward.portable = portable
    return forward


# -- erf family ----------------------------------------------------------------------------------
_ERFCX_K = 4.0
_ERFCX_CHEB = (  # erfcx(4 (1 + t) / (1 - t)) = sum c_k T_k(t), c_0 already halved
    0.29810179369365760367, -0.4290864412558053669, 0.18027256568771056463,
    -0.065237524497348991471, 0.020367256576744864599, -0.0054490870664590075772,
    0.0012278515372606755334, -0.00022469794218773049373, 0.000030685431130989515258,
    -2.317823499946853368e-6, -1.4628356484727577984e-7, 6.927830518748949253e-8,
    -6.8831107633628463774e-9, -6.8584891494454503084e-10, 2.4593734989496684e-10,
    -7.8149091740280959687e-12, -5.8893947338172626945e-12, 6.8692304385679933789e-13,
    1.2550492580108261014e-13, -2.8232509502798150949e-14, -2.6031646343175432449e-15,
    1.0249960195009235169e-15, 5.7284146812568497572e-17, -3.6928751293272149872e-17,
    -1.5725507296420274835e-18, 1.368806273864585125e-18, 6.3016934454418055556e-20,
    -5.2436386872662458889e-20)
# erfcx(x) ~ 1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2 x^2)^k
_ERFCX_ASYM = tuple((-1) ** k * math.prod(range(1, 2 * k, 2)) / 2.0 ** k for k in range(12))
# erf(x) = 2/sqrt(pi) sum_k (-1)^k x^(2k+1) / (k! (2k+1))
_ERF_TAYLOR = tuple(_2_SQRT_PI * (-1) ** k / (math.factorial(k) * (2 * k + 1)) for k in range(22))


def _erfcx_nonneg(xp, x):
    """erfcx(x) for x >= 0 (any value where x < 0)."""
    small = x < 12.0
    xs = _safe(xp, small, x, 0.0)
    t = (xs - _ERFCX_K) / (xs + _ERFCX_K)
    b1 = b2 = xp.zeros_like(x)
    for c in _ERFCX_CHEB[:0:-1]:
        b1, b2 = 2 * t * b1 - b2 + c, b1
    cheb = t * b1 - b2 + _ERFCX_CHEB[0]
    xl = _safe(xp, small, 12.0, x)
    inv = 1.0 / (xl * xl)
    asym = _horner(xp, _ERFCX_ASYM, inv, x) / (xl * _SQRT_PI)
    return xp.where(small, cheb, asym)


def _exp_neg_square(xp, x):
    """exp(-x^2) with full relative precision: x = m + f with m a multiple of 1/128,
    so m^2 is exact and only the small part 2mf + f^2 is rounded."""
    x = xp.where(x > 40.0, 40.0, x)  # erfc(40) underflows already; keeps exp(-(2m + f) f) finite
    m = xp.round(x * 128.0) / 128.0
    f = x - m
    return xp.exp(-m * m) * xp.exp(-(2.0 * m + f) * f)


def _erfc_nonneg(xp, x):
    return _exp_neg_square(xp, x) * _erfcx_nonneg(xp, x)


def _erf_small(xp, x):
    return x * _horner(xp, _ERF_TAYLOR, x * x, x)


def _erf_forward(xp, x):
    a = xp.abs(x)
    small = a < 1.0
    tail = 1.0 - _erfc_nonneg(xp, a)
    return xp.where(small, _erf_small(xp, _safe(xp, small, x, 0.0)), xp.where(x < 0, -tail, tail))


def _erfc_forward(xp, x):
    a = xp.abs(x)
    small = a < 0.5
    tail = _erfc_nonneg(xp, a)
    return xp.where(small, 1.0 - _erf_small(xp, _safe(xp, small, x, 0.0)),
                    xp.where(x < 0, 2.0 - tail, tail))


def _erfcx_forward(xp, x):
    pos = _erfcx_nonneg(xp, xp.abs(x))
    neg_x = _safe(xp, x < 0, x, 0.0)
    return xp.where(x < 0, 2.0 * xp.exp(neg_x * neg_x) - pos, pos)


def _gauss(xp, x):
    return _2_SQRT_PI * xp.exp(-x * x)


ERF = defop("erf", _fast("erf", _widen(_erf_forward)), (lambda xp, g, out, x: g * _gauss(xp, x),), saves=(0,),
            jvp=ELEMENTWISE)
ERFC = defop("erfc", _fast("erfc", _widen(_erfc_forward)), (lambda xp, g, out, x: -g * _gauss(xp, x),), saves=(0,),
             jvp=ELEMENTWISE)
ERFCX = defop("erfcx", _fast("erfcx", _widen(_erfcx_forward)),
              (lambda xp, g, out, x: g * (2.0 * x * out - _2_SQRT_PI),), saves=(0, "out"),
              jvp=ELEMENTWISE, grad_name="SpecialErfcxBackward0")


# -- erfinv, ndtri ---------------------------------------------------------------------------------
_HALLEY_STEPS = 3  # from Winitzki's guess (2e-3 centrally, worse far in the tails)


def _inverse_core(xp, a, b):
    """y >= 0 with erf(y) = a and erfc(y) = b, given both a = |x| and b = 1 - a to full
    precision (b is the accurate one in the tails)."""
    w = -xp.log(_safe(xp, b > 0, b, 1.0) * (1.0 + a))  # -log(1 - a^2)
    k = 2.0 / (math.pi * 0.147)
    u = k - 0.5 * w
    y = xp.sqrt(xp.sqrt(u * u + w / 0.147) - u)  # Winitzki's guess, ~2e-3 relative
    central = a <= 0.5  # then y < 0.477: erf's Taylor series; else erfc's tail formula
    for _ in range(_HALLEY_STEPS):  # Halley's method: f'' = -2 y f', so dy = f / (f' + y f)
        d = _2_SQRT_PI * xp.exp(-y * y)
        f = xp.where(central, _erf_small(xp, _safe(xp, central, y, 0.0)) - a,
                     b - _erfc_nonneg(xp, _safe(xp, central, 1.0, y)))
        y = y - f / (d + y * f)
    return xp.where(b == 0, xp.inf, xp.where(a == 0, 0.0, y))


def _erfinv_forward(xp, x):
    a = xp.abs(x)
    y = _inverse_core(xp, _safe(xp, a <= 1, a, 0.5), _safe(xp, a <= 1, 1.0 - a, 0.5))
    y = xp.where(x < 0, -y, y)
    return xp.where((a > 1) | xp.isnan(x), xp.nan, xp.where(x == 0, x, y))


def _ndtri_forward(xp, p):
    """Phi^-1(p) = -sqrt(2) erfcinv(2p); erfcinv(q) = -erfcinv(2 - q) for q > 1."""
    q = 2.0 * p
    upper = q > 1.0
    b = xp.where(upper, 2.0 - q, q)   # the tail mass, exact
    valid = (p >= 0) & (p <= 1)
    b = _safe(xp, valid, b, 0.5)
    y = _inverse_core(xp, 1.0 - b, b)
    out = _SQRT_2 * xp.where(upper, y, -y)
    return xp.where(valid, out, xp.nan)


ERFINV = defop("erfinv", _fast("erfinv", _widen(_erfinv_forward)),
               (lambda xp, g, out, x: g * (0.5 * _SQRT_PI) * xp.exp(out * out),), saves=("out",),
               jvp=ELEMENTWISE)
NDTRI = defop("ndtri", _fast("ndtri", _widen(_ndtri_forward)),
              (lambda xp, g, out, x: g * _SQRT_2PI * xp.exp(0.5 * out * out),), saves=("out",),
              jvp=ELEMENTWISE, grad_name="SpecialNdtriBackward0")


def _log_ndtr_forward(xp, x):
    z = x * (1.0 / _SQRT_2)
    left = x < -1.0
    zl = _safe(xp, left, z, -1.0)
    low = xp.log(0.5 * _erfcx_forward(xp, -zl)) - zl * zl
    high = xp.log1p(-0.5 * _erfc_forward(xp, _safe(xp, left, 0.0, z)))
    return xp.where(left, low, high)


LOG_NDTR = defop("log_ndtr", _fast("log_ndtr", _widen(_log_ndtr_forward)),
                 (lambda xp, g, out, x: g * xp.exp(-0.5 * x * x - out) * (1.0 / _SQRT_2PI),),
                 saves=(0, "out"), jvp=ELEMENTWISE, grad_name="SpecialLogNdtrBackward0")


# -- gamma family -----------------------------------------------------------------------------------
_SHIFT = 10  # recurrence steps that carry x >= 0.5 to x >= 10, where Stirling's series is exact
_STIRLING = tuple(_B2[j - 1] / (2 * j * (2 * j - 1)) for j in range(1, 11))
_PSI_ASYM = tuple(_B2[j - 1] / (2 * j) for j in range(1, 11))


def _lgamma_from_half(xp, x):
    """lgamma(x) for x >= 0.5."""
    big = x >= _SHIFT
    z = xp.where(big, x, x + _SHIFT)
    prod = xp.ones_like(x)
    xs = _safe(xp, big, 1.0, x)
    for k in range(_SHIFT):
        prod = prod * (xs + k)
    inv = 1.0 / z
    series = inv * _horner(xp, _STIRLING, inv * inv, x)
    stirling = (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + series
    return xp.where(big, stirling, stirling - xp.log(prod))


def _sin_pi_abs(xp, x):
    """|sin(pi x)|, exact at integers and for large |x|."""
    return xp.abs(xp.sin(math.pi * (x - xp.round(x))))


def _lgamma_forward(xp, x):
    reflect = x < 0.5
    xr = _safe(xp, reflect, x, 0.0)
    xpos = _safe(xp, reflect, 1.0, x)
    s = _sin_pi_abs(xp, xr)
    pole = reflect & (s == 0)
    refl = math.log(math.pi) - xp.log(_safe(xp, pole, 1.0, s)) - _lgamma_from_half(xp, 1.0 - xr)
    out = xp.where(reflect, refl, _lgamma_from_half(xp, xpos))
    return xp.where(pole, xp.inf, out)


def _digamma_from_half(xp, x):
    big = x >= _SHIFT
    z = xp.where(big, x, x + _SHIFT)
    xs = _safe(xp, big, 1.0, x)
    acc = xp.zeros_like(x)
    for k in range(_SHIFT):
        acc = acc + 1.0 / (xs + k)
    inv2 = 1.0 / (z * z)
    asym = xp.log(z) - 0.5 / z - inv2 * _horner(xp, _PSI_ASYM, inv2, x)
    return xp.where(big, asym, asym - acc)


def _digamma_forward(xp, x):
    reflect = x < 0.5
    xr = _safe(xp, reflect, x, 0.25)
    r = xr - xp.round(xr)
    pole = reflect & (r == 0)
    t = xp.tan(math.pi * _safe(xp, pole, 0.25, r))
    refl = _digamma_from_half(xp, 1.0 - xr) - math.pi / t
    out = xp.where(reflect, refl, _digamma_from_half(xp, _safe(xp, reflect, 1.0, x)))
    return xp.where(pole, xp.where(x == 0, -xp.inf, xp.full_like(x, xp.nan)), out)


def _hurwitz(xp, s, q, like):
    """zeta(s, q) = sum_k (q + k)^-s by Euler-Maclaurin: 12 terms summed, the tail as an
    integral plus 12 Bernoulli corrections (s > 1; q > -3 for full accuracy)."""
    n = 12
    total = xp.zeros_like(like)
    for k in range(n):
        total = total + (q + k) ** (-s)
    w = q + n
    w_s = w ** (-s)
    total = total + w * w_s / (s - 1.0) + 0.5 * w_s
    fac = s * 1.0
    wpow = w_s / w
    inv2 = 1.0 / (w * w)
    for j in range(1, 13):
        total = total + (_B2[j - 1] / math.factorial(2 * j)) * fac * wpow
        fac = fac * (s + 2 * j - 1) * (s + 2 * j)
        wpow = wpow * inv2
    return total


def _zeta_forward(xp, s, q):
    qpole = (q <= 0) & (q == xp.floor(q))
    sint = s == xp.floor(s)
    valid = (s > 1) & ~qpole & ((q > 0) | sint)
    ss = _safe(xp, valid, s, 2.0)
    qs = _safe(xp, valid, q, 1.0)
    out = _hurwitz(xp, ss, qs, ss * qs)
    out = xp.where(valid, out, xp.nan)
    return xp.where((s == 1) | (qpole & (s > 1)), xp.inf, out)


def _polygamma_forward(xp, x, *, n):
    if n == 0:
        return _digamma_forward(xp, x)
    pole = (x <= 0) & (x == xp.floor(x))
    xs = _safe(xp, pole, 1.0, x)
    out = ((-1) ** (n + 1) * math.factorial(n)) * _hurwitz(xp, n + 1.0, xs, xs)
    return xp.where(pole, (-1) ** (n + 1) * math.inf, out)


LGAMMA = defop("lgamma", _fast("gammaln", _via_float64(_lgamma_forward)),
               (lambda xp, g, out, x: g * call(xp, DIGAMMA, x),), saves=(0,), jvp=ELEMENTWISE)
DIGAMMA = defop("digamma", _fast("psi", _via_float64(_digamma_forward),
                                 fixup=lambda xp, out, x: xp.where(x == 0, -xp.inf, out)),
                (lambda xp, g, out, x: g * call(xp, POLYGAMMA, x, n=1),), saves=(0,),
                jvp=ELEMENTWISE)
POLYGAMMA = defop("polygamma", _fast("polygamma", _via_float64(_polygamma_forward),
                                       call_native=lambda fn, x, *, n: fn(n, x)),
                  (lambda xp, g, out, x, *, n: g * call(xp, POLYGAMMA, x, n=n + 1),), saves=(0,),
                  jvp=ELEMENTWISE)
ZETA = defop("zeta", _fast("zeta", _via_float64(_zeta_forward)),
             (None, lambda xp, g, out, s, q: -g * s * call(xp, ZETA, s + 1.0, q)),
             saves=(0, 1), broadcasts=True, jvp=ELEMENTWISE, grad_name="SpecialZetaBackward0")


# -- modified Bessel functions of the first kind, orders 0 and 1 -------------------------------------
_BESSEL_SPLIT = 20.0
_I0_SERIES = tuple(1.0 / math.factorial(k) ** 2 for k in range(42))            # in (x/2)^2
_I1_SERIES = tuple(1.0 / (math.factorial(k) * math.factorial(k + 1)) for k in range(42))


def _asym_coeffs(nu, count=36):
    """I_nu(x) ~ e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k."""
    mu = 4.0 * nu * nu
    out, a = [], 1.0
    for k in range(count):
        out.append((-1) ** k * a)
        a = a * (mu - (2 * k + 1) ** 2) / ((k + 1) * 8.0)
    return tuple(out)


_I0_ASYM, _I1_ASYM = _asym_coeffs(0), _asym_coeffs(1)


def _bessel_scaled(xp, x, order):
    """exp(-|x|) I_order(|x|) (the sign of odd orders is applied by the caller)."""
    a = xp.abs(x)
    small = a < _BESSEL_SPLIT
    s = _safe(xp, small, a, 0.0)
    y = 0.25 * s * s
    series = _horner(xp, _I0_SERIES if order == 0 else _I1_SERIES, y, x)
    if order == 1:
        series = 0.5 * s * series
    series = series * xp.exp(-s)
    big = _safe(xp, small, _BESSEL_SPLIT, a)
    asym = _horner(xp, _I0_ASYM if order == 0 else _I1_ASYM, 1.0 / big, x) / xp.sqrt(2 * math.pi * big)
    return xp.where(small, series, asym)


def _i0e_forward(xp, x):
    return _bessel_scaled(xp, x, 0)


def _i1e_forward(xp, x):
    v = _bessel_scaled(xp, x, 1)
    return xp.where(x < 0, -v, v)


def _i0_forward(xp, x):
    a = xp.abs(x)
    return _bessel_scaled(xp, x, 0) * xp.exp(a)


def _i1_forward(xp, x):
    a = xp.abs(x)
    return _i1e_forward(xp, x) * xp.exp(a)


def _over_x(xp, v, x):
    """v / x with the limit 1/2 at x = 0 (I_1(x) / x and its scaled form)."""
    zero = x == 0
    return xp.where(zero, 0.5, v / _safe(xp, zero, 1.0, x))


I0 = defop("i0", _fast("i0", _widen(_i0_forward)), (lambda xp, g, out, x: g * call(xp, I1, x),), saves=(0,),
           jvp=ELEMENTWISE)
I0E = defop("i0e", _fast("i0e", _widen(_i0e_forward)),
            (lambda xp, g, out, x: g * (call(xp, I1E, x) - xp.sign(x) * out),), saves=(0, "out"),
            jvp=ELEMENTWISE, grad_name="SpecialI0EBackward0")
I1 = defop("i1", _fast("i1", _widen(_i1_forward)),
           (lambda xp, g, out, x: g * (call(xp, I0, x) - _over_x(xp, out, x)),), saves=(0, "out"),
           jvp=ELEMENTWISE, grad_name="SpecialI1Backward0")
I1E = defop("i1e", _fast("i1e", _widen(_i1e_forward)),
            (lambda xp, g, out, x: g * (call(xp, I0E, x) - xp.sign(x) * out - _over_x(xp, out, x)),),
            saves=(0, "out"), jvp=ELEMENTWISE, grad_name="SpecialI1EBackward0")


# -- public functions on tensors --------------------------------------------------------------------
def _unary(op, doc):
    def fn(x, /):
        return apply(op, (x,))
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc
    fn.op = op
    return fn


erf = _unary(ERF, "The error function 2/sqrt(pi) int_0^x exp(-t^2) dt.")
erfc = _unary(ERFC, "The complementary error function 1 - erf(x), accurate in the tail.")
erfcx = _unary(ERFCX, "The scaled complementary error function exp(x^2) erfc(x).")
erfinv = _unary(ERFINV, "The inverse of erf on (-1, 1) (nan outside [-1, 1]).")
ndtri = _unary(NDTRI, "The inverse of the standard normal CDF (the probit function).")
log_ndtr = _unary(LOG_NDTR, "log of the standard normal CDF, accurate far into both tails.")
lgamma = _unary(LGAMMA, "log |Gamma(x)|.")
digamma = _unary(DIGAMMA, "The digamma function d/dx lgamma(x) (-inf at 0, nan at negative integers).")
i0 = _unary(I0, "The modified Bessel function of the first kind of order 0.")
i0e = _unary(I0E, "exp(-|x|) i0(x), which does not overflow.")
i1 = _unary(I1, "The modified Bessel function of the first kind of order 1.")
i1e = _unary(I1E, "exp(-|x|) i1(x), which does not overflow.")


def polygamma(n, x, /):
    """The n-th derivative of the digamma function (n = 0: digamma)."""
    n = int(n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return apply(POLYGAMMA, (x,), {"n": n})


def zeta(s, q, /):
    """The Hurwitz zeta function sum_k (q + k)^-s (differentiable in ``q``)."""
    return binary(ZETA, s, q)


# -- other pointwise functions PyTorch has and the standard lacks --------------------------------------
def _fmod_forward(xp, x, y):
    """C's fmod: the remainder with the sign of ``x``, exact (|x| mod |y| is exact)."""
    r = xp.abs(x) % (xp.abs(y) if hasattr(y, "shape") else abs(y))
    return xp.where(x < 0, -r, r)


def _trunc_div(xp, x, y):
    q = x / y
    return xp.where(q < 0, xp.ceil(q), xp.floor(q))


FMOD = defop("fmod", _fmod_forward,
             (lambda xp, g, out, x, y: g, lambda xp, g, out, x, y: -g * _trunc_div(xp, x, y)),
             broadcasts=True, jvp=ELEMENTWISE)


def _xlog_forward(log):
    def forward(xp, x, y):
        zero = (x == 0) & ~xp.isnan(y)
        return xp.where(zero, 0.0, x * getattr(xp, log)(_safe(xp, zero, 1.0, y)))
    return forward


def _xlog_vjp_x(log, pole):
    def vjp(xp, g, out, x, y):  # PyTorch: xlogy(g, y), 0 where x == 0 and y is at the pole or below
        skip = (x == 0) & (y <= pole)
        return xp.where(skip, 0.0, g * getattr(xp, log)(_safe(xp, skip, 1.0, y)))
    return vjp


XLOGY = defop("xlogy", _xlog_forward("log"),
              (_xlog_vjp_x("log", 0.0), lambda xp, g, out, x, y: g * x / y),
              broadcasts=True, jvp=ELEMENTWISE)
XLOG1PY = defop("xlog1py", _xlog_forward("log1p"),
                (_xlog_vjp_x("log1p", -1.0), lambda xp, g, out, x, y: g * x / (1.0 + y)),
                broadcasts=True, jvp=ELEMENTWISE, grad_name="SpecialXlog1PyBackward0")


def _entr_forward(xp, x):
    pos = x > 0
    xs = _safe(xp, pos, x, 1.0)
    return xp.where(pos, -xs * xp.log(xs), xp.where(x == 0, 0.0, xp.where(x < 0, -xp.inf, x)))


ENTR = defop("entr", _entr_forward, (lambda xp, g, out, x: -g * (1.0 + xp.log(x)),), saves=(0,),
             jvp=ELEMENTWISE, grad_name="SpecialEntrBackward0")

__all__ += ["FMOD", "XLOGY", "XLOG1PY", "ENTR"]


# -- regularized incomplete gamma functions P(a, x) (gammainc) and Q(a, x) (gammaincc) -------------
_GAMMAINC_SERIES = 300   # terms: enough for x < a + 1 with a up to about 1000
_GAMMAINC_CF = 200       # continued-fraction depth for x >= a + 1


def _gammainc_parts(xp, a, x):
    """(P, Q) for a > 0, x >= 0: the power series for x < a + 1, Legendre's continued
    fraction (evaluated bottom-up to a fixed depth) above; the other is 1 minus it."""
    series_side = x < a + 1.0
    xs = _safe(xp, series_side, x, 0.0)
    term = xp.ones_like(xs)
    total = xp.ones_like(xs)
    for n in range(1, _GAMMAINC_SERIES):
        term = term * xs / (a + n)
        total = total + term
    xlog = xp.log(_safe(xp, xs > 0, xs, 1.0))
    p_series = xp.where(xs > 0, xp.exp(a * xlog - xs - _lgamma_forward(xp, a + 1.0)) * total, 0.0)
    xc = _safe(xp, series_side, a + 2.0, x)
    t = xp.zeros_like(xc)
    for n in range(_GAMMAINC_CF, 0, -1):
        t = n * (n - a) / (xc + (2 * n + 1) - a - t)
    q_cf = xp.exp(a * xp.log(xc) - xc - _lgamma_forward(xp, a)) / (xc + 1.0 - a - t)
    p = xp.where(series_side, p_series, 1.0 - q_cf)
    q = xp.where(series_side, 1.0 - p_series, q_cf)
    return p, q


def _gammainc_forward(upper):
    def forward(xp, a, x):
        valid = (a >= 0) & (x >= 0)
        a_s = _safe(xp, valid & (a > 0), a, 1.0)
        x_s = _safe(xp, valid, x, 1.0)
        p, q = _gammainc_parts(xp, a_s, x_s)
        out = q if upper else p
        # a = 0: P = 1 for x > 0; x = inf: P = 1; invalid arguments: nan
        edge = (a == 0) & (x > 0) | xp.isinf(x) & (a > 0)
        out = xp.where(edge, 0.0 if upper else 1.0, out)
        valid = valid & ~((a == 0) & (x == 0))
        return xp.where(valid & ~xp.isnan(a) & ~xp.isnan(x), out, xp.nan)
    return forward


def _gammainc_density(xp, a, x):
    """d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a)."""
    return xp.exp((a - 1.0) * xp.log(x) - x - call(xp, LGAMMA, a))


GAMMAINC = defop("igamma", _fast("gammainc", _via_float64(_gammainc_forward(False))),
                 (None, lambda xp, g, out, a, x: g * _gammainc_density(xp, a, x)),
                 saves=(0, 1), broadcasts=True, jvp=ELEMENTWISE)
GAMMAINCC = defop("igammac", _fast("gammaincc", _via_float64(_gammainc_forward(True))),
                  (None, lambda xp, g, out, a, x: -g * _gammainc_density(xp, a, x)),
                  saves=(0, 1), broadcasts=True, jvp=ELEMENTWISE)

__all__ += ["GAMMAINC", "GAMMAINCC"]


# -- modified Bessel functions of the second kind, orders 0 and 1 ---------------------------------
# e^x sqrt(x) K_nu(x) = sum c_k T_k(4/x - 1) on [2, inf) (mpmath, 40 digits; c_0 already halved)
_K0E_CHEB = (1.2201515410329777273, -0.031448101311964500543, 0.0015698838857300533749,
    -0.00012849549581627802638, 0.000013949813718876499364, -1.8317555227191194848e-6,
    2.7668136394450150761e-7, -4.6604898976879476656e-8, 8.5740340174142260858e-9,
    -1.6975345093890615156e-9, 3.5773972814003284472e-10, -7.9574892444773970377e-11,
    1.855949114954926555e-11, -4.5145978833745191751e-12, 1.1403405882073442347e-12,
    -2.9800969231481783548e-13, 8.0328907750683743694e-14, -2.2275133267462963604e-14,
    6.3400764762766459661e-15, -1.8485933779209071694e-15, 5.5120559994043333649e-16,
    -1.6782311257549006383e-16, 5.2103917776435541125e-17, -1.6475805939842632815e-17,
    5.300433771177335771e-18, -1.7331712005821000278e-18)
_K1E_CHEB = (1.3603130952422213347, 0.10392373657681723844, -0.0028578168596227793868,
    0.00019521551847135163111, -0.0000193619797416608296, 2.4064849478372171171e-6,
    -3.5019606030878125421e-7, 5.7410841254500492923e-8, -1.0345762465678097027e-8,
    2.0150497551970346161e-9, -4.1903547593419255842e-10, 9.2183151876053141258e-11,
    -2.1299678384277910216e-11, 5.1396396734823435404e-12, -1.2891739609498229352e-12,
    3.3484196660522431201e-13, -8.9767051820101460692e-14, 2.4771544242195986813e-14,
    -7.0198370892147688513e-15, 2.0387031662398608799e-15, -6.0570472706430178228e-16,
    1.8380935752430454256e-16, -5.6894628491936483743e-17, 1.7940510478863572914e-17,
    -5.7567444820733024503e-18, 1.8778651901623267401e-18)
_EULER_GAMMA = 0.57721566490153286061
_HARMONIC = [0.0]
for _k in range(1, 20):
    _HARMONIC.append(_HARMONIC[-1] + 1.0 / _k)
# K0 = -(log(x/2) + gamma) I0 + sum_k H_k y^k / k!^2;  y = x^2 / 4
_K0_SERIES = tuple(_HARMONIC[k] / math.factorial(k) ** 2 for k in range(18))
# K1 = 1/x + log(x/2) I1 - (x/4) sum_k (psi(k+1) + psi(k+2)) y^k / (k! (k+1)!)
_K1_SERIES = tuple((2 * -_EULER_GAMMA + _HARMONIC[k] + _HARMONIC[k + 1])
                   / (math.factorial(k) * math.factorial(k + 1)) for k in range(18))


def _k_scaled(xp, x, order):
    """exp(x) K_order(x) for x > 0 (the caller handles x <= 0)."""
    small = x <= 2.0
    s = _safe(xp, small, x, 1.0)
    y = 0.25 * s * s
    log_half = xp.log(0.5 * s)
    if order == 0:
        i0 = _horner(xp, _I0_SERIES, y, s)
        series = -(log_half + _EULER_GAMMA) * i0 + _horner(xp, _K0_SERIES, y, s)
    else:
        i1 = 0.5 * s * _horner(xp, _I1_SERIES, y, s)
        series = 1.0 / s + log_half * i1 - 0.25 * s * _horner(xp, _K1_SERIES, y, s)
    big = _safe(xp, small, 4.0, x)
    t = 4.0 / big - 1.0
    coeffs = _K0E_CHEB if order == 0 else _K1E_CHEB
    b1 = b2 = xp.zeros_like(t)
    for c in coeffs[:0:-1]:
        b1, b2 = 2 * t * b1 - b2 + c, b1
    cheb = (t * b1 - b2 + coeffs[0]) / xp.sqrt(big)
    return xp.where(small, series * xp.exp(s), cheb)


def _k_forward(order, scaled):
    def forward(xp, x):
        pos = x > 0
        xs = _safe(xp, pos, x, 1.0)
        v = _k_scaled(xp, xs, order)
        if not scaled:
            v = v * xp.exp(-xs)
        return xp.where(pos, v, xp.where(x == 0, xp.inf, xp.full_like(x, xp.nan)))
    return forward




K0 = defop("modified_bessel_k0", _fast("k0", _widen(_k_forward(0, False))),
           (lambda xp, g, out, x: -g * call(xp, K1, x),), saves=(0,), jvp=ELEMENTWISE)
K1 = defop("modified_bessel_k1", _fast("k1", _widen(_k_forward(1, False))),
           (lambda xp, g, out, x: -g * (call(xp, K0, x) + out / x),), saves=(0, "out"),
           jvp=ELEMENTWISE)
K0E = defop("scaled_modified_bessel_k0", _fast("k0e", _widen(_k_forward(0, True))),
            (lambda xp, g, out, x: g * (out - call(xp, K1E, x)),), saves=(0, "out"), jvp=ELEMENTWISE)
K1E = defop("scaled_modified_bessel_k1", _fast("k1e", _widen(_k_forward(1, True))),
            (lambda xp, g, out, x: g * (out * (1.0 - 1.0 / x) - call(xp, K0E, x)),),
            saves=(0, "out"), jvp=ELEMENTWISE)

__all__ += ["K0", "K1", "K0E", "K1E"]


# -- Bessel functions of the first and second kind, orders 0 and 1 ---------------------------------
# x >= 2: J = M cos(theta), Y = M sin(theta) with sqrt(x) M(x) = sum a_k T_k(4/x - 1) and
# theta - (x - pi/4) (order 0) or theta - (x - 3 pi/4) (order 1) = sum b_k T_k(4/x - 1) (mpmath, 40 digits)
_J0_MOD = (0.7940282864027724078, -0.0049649356430954938234, -0.00099641842382853589466,
    0.00011248028727199779508, -2.28011293354810262e-6, -1.9538159860167995522e-6,
    5.1042455435620554161e-7, -6.3357922146132425354e-8, -3.7608125083236195281e-9,
    4.57185932211404515e-9, -1.4449024676965910186e-9, 2.6466121837544387378e-10,
    -5.6542019323173016569e-12, -1.8382814551830541375e-11, 9.0075389586102830661e-12,
    -2.6985966267972282705e-12, 4.9364410208258811916e-13, 1.6223994011551822982e-14,
    -6.1461598301306849331e-14, 3.2376947285545574434e-14, -1.1349982427959397655e-14,
    2.7330626866570390972e-15, -2.144502853688369349e-16, -2.2403162947108973119e-16,
    1.6934767604903763645e-16, -7.7269264044054159075e-17, 2.619032734901778724e-17,
    -6.0406809296220240844e-18, 1.3404490876154343662e-19, 8.3840812158526520573e-19,
    -6.0335184135472072486e-19, 2.8984554427183662765e-19, -1.0760264203924759554e-19,
    2.9127347740281808636e-20, -2.8990067356659883368e-21, -2.9314236331001865398e-21,
    2.7089544854695179021e-21, -1.520755133684340794e-21, 6.6562948216201520035e-22,
    -2.304907066158051371e-22)
_J0_PHASE = (-0.029470385176810132177, -0.028670983844039846442, 0.00088841235929432821897,
    0.000066407662451431955919, -0.00002041101753375245599, 2.3846441233885529782e-6,
    5.5293481170060134004e-8, -1.042556467084471224e-7, 2.9133472100995932971e-8,
    -4.2990156172617405855e-9, -1.6641701364406379141e-10, 3.5076022540870271121e-10,
    -1.3457399194518656895e-10, 3.1732638541162516544e-11, -3.279700850356320801e-12,
    -1.291016666888602585e-12, 9.6670213267393016779e-13, -3.7383324814612852847e-13,
    9.8543102212940257438e-14, -1.3019860669548980455e-14, -4.0467903565406134176e-15,
    3.9532405092396384355e-15, -1.8659965774389463426e-15, 6.3159605653918850718e-16,
    -1.4526245892087318684e-16, 5.3797885438887900129e-18, 1.7208453600644269068e-17,
    -1.2193741942081172174e-17, 5.6291433707122711347e-18, -1.9742123027186988861e-18,
    4.8386512134916746638e-19, -2.2704870965105133762e-20, -6.3405665817870762858e-20,
    4.9645342544596913346e-20, -2.5475517046432713525e-20, 1.020498647145210956e-20,
    -3.1190798492047359963e-21, 5.1818469061966300725e-22, 1.761406076279231044e-22,
    -2.3260088169515072123e-22)
_J1_MOD = (0.81022707855238642776, 0.01607842980700864228, 0.0034876447330115279973,
    -0.00025553100572405875792, -2.1565877864960492573e-6, 4.2368736615093413411e-6,
    -8.1800116475631486917e-7, 7.258917261237866586e-8, 1.1143347130337400707e-8,
    -7.0692246060681141735e-9, 1.9125192979291233108e-9, -2.9742463682081012356e-10,
    -9.9430913480006354837e-12, 2.6952042046902534778e-11, -1.1576927716695637527e-11,
    3.1888953604642249667e-12, -5.0813481916376822521e-13, -5.3637327290320166423e-14,
    8.2110864813863377541e-14, -3.9556625149729434003e-14, 1.308255349111230497e-14,
    -2.9084661844327776102e-15, 1.1429866630674768238e-16, 3.0463867031383178605e-16,
    -2.0567129539384080901e-16, 8.9310690906094339441e-17, -2.8934052723337996644e-17,
    6.1456356955870631704e-18, 1.8643089334494227458e-19, -1.0671064543085656229e-18,
    7.1017713805097053487e-19, -3.2819747909965733378e-19, 1.175874869115804168e-19,
    -3.0038879682773526995e-20, 1.9192895147139094905e-21, 3.7928066690133369659e-21,
    -3.1736457128035618398e-21, 1.7160595442757221517e-21, -7.3010092459696400227e-22,
    2.4431116799373369567e-22)
_J1_PHASE = (0.088854449572292223541, 0.086596788983091447072, -0.0025560351064964611459,
    -0.00024560927715547125155, 0.000049774865320793499706, -3.6138425226692022806e-6,
    -3.7976123835376502164e-7, 1.9833643879124783597e-7, -4.2265849669075145572e-8,
    4.5288578101590066361e-9, 6.7322899520181839296e-10, -5.3992954239964260091e-10,
    1.7668617016997172196e-10, -3.6478670765234582488e-11, 2.2963129825197818122e-12,
    2.108716259300814034e-12, -1.2724216696200321546e-12, 4.5153836038165985193e-13,
    -1.0921927058005123122e-13, 1.0841903780167567663e-14, 6.3738441406040215985e-15,
    -5.0226812282782834603e-15, 2.2148452904305805495e-15, -7.0940227928462770401e-16,
    1.488071537235100956e-16, 2.4906343496620636364e-18, -2.2651340704027607552e-17,
    1.4611899874116027394e-17, -6.4416913795408263593e-18, 2.1634440234243825519e-18,
    -4.9063148486325929328e-19, -1.5635399755559405202e-21, 8.1359485175528762608e-20,
    -5.8437571265701635402e-20, 2.8831507430455741479e-20, -1.1170383289908461458e-20,
    3.2566507370213725802e-21, -4.5321885686778579639e-22, -2.4900376902618585911e-22,
    2.7612139702965301969e-22)
# x < 2: the power series (y = x^2 / 4)
_J0_SERIES = tuple((-1) ** k / math.factorial(k) ** 2 for k in range(16))
_J1_SERIES = tuple((-1) ** k / (math.factorial(k) * math.factorial(k + 1)) for k in range(16))
_Y0_SERIES = tuple(-(-1) ** k * _HARMONIC[k] / math.factorial(k) ** 2 for k in range(16))
_Y1_SERIES = tuple((-1) ** k * (2 * -_EULER_GAMMA + _HARMONIC[k] + _HARMONIC[k + 1])
                   / (math.factorial(k) * math.factorial(k + 1)) for k in range(16))


def _clenshaw(xp, coeffs, t):
    b1 = b2 = xp.zeros_like(t)
    for c in coeffs[:0:-1]:
        b1, b2 = 2 * t * b1 - b2 + c, b1
    return t * b1 - b2 + coeffs[0]


def _bessel_jy(xp, x, order, second):
    """J_order(x) (``second`` False) or Y_order(x) for x >= 0."""
    small = x < 2.0
    s = _safe(xp, small, x, 1.0)
    y = 0.25 * s * s
    if order == 0:
        j = _horner(xp, _J0_SERIES, y, s)
        series = j if not second else (2.0 / math.pi) * (
            (xp.log(0.5 * s) + _EULER_GAMMA) * j + _horner(xp, _Y0_SERIES, y, s))
    else:
        j = 0.5 * s * _horner(xp, _J1_SERIES, y, s)
        series = j if not second else (-2.0 / (math.pi * s) + (2.0 / math.pi) * xp.log(0.5 * s) * j
                                       - (0.5 * s / math.pi) * _horner(xp, _Y1_SERIES, y, s))
    big = _safe(xp, small, 4.0, x)
    t = 4.0 / big - 1.0
    mod = _clenshaw(xp, _J0_MOD if order == 0 else _J1_MOD, t) / xp.sqrt(big)
    shift = math.pi / 4 if order == 0 else 3 * math.pi / 4
    a = _clenshaw(xp, _J0_PHASE if order == 0 else _J1_PHASE, t) - shift
    c, sn = xp.cos(big), xp.sin(big)  # cos/sin(x + a) by the addition formulas: x stays exact
    far = mod * ((sn * xp.cos(a) + c * xp.sin(a)) if second else (c * xp.cos(a) - sn * xp.sin(a)))
    return xp.where(small, series, far)


def _j_forward(order):
    def forward(xp, x):
        v = _bessel_jy(xp, xp.abs(x), order, False)
        return xp.where(x < 0, -v, v) if order == 1 else v
    return forward


def _y_forward(order):
    def forward(xp, x):
        pos = x > 0
        v = _bessel_jy(xp, _safe(xp, pos, x, 1.0), order, True)
        return xp.where(pos, v, xp.where(x == 0, -xp.inf, xp.full_like(x, xp.nan)))
    return forward


J0 = defop("bessel_j0", _fast("j0", _widen(_j_forward(0))),
           (lambda xp, g, out, x: -g * call(xp, J1, x),), saves=(0,), jvp=ELEMENTWISE)
J1 = defop("bessel_j1", _fast("j1", _widen(_j_forward(1))),
           (lambda xp, g, out, x: g * (call(xp, J0, x) - _over_x(xp, out, x)),), saves=(0, "out"),
           jvp=ELEMENTWISE)
Y0 = defop("bessel_y0", _fast("y0", _widen(_y_forward(0))),
           (lambda xp, g, out, x: -g * call(xp, Y1, x),), saves=(0,), jvp=ELEMENTWISE)
Y1 = defop("bessel_y1", _fast("y1", _widen(_y_forward(1))),
           (lambda xp, g, out, x: g * (call(xp, Y0, x) - out / x),), saves=(0, "out"), jvp=ELEMENTWISE)

__all__ += ["J0", "J1", "Y0", "Y1"]


# -- the Airy function Ai ----------------------------------------------------------------------------
# with zeta = 2/3 |x|^1.5 and u = 1/zeta (mpmath fits, 40 digits):
# x >= 1: Ai(x) = exp(-zeta) / (2 sqrt(pi) x^1/4) sum a_k T_k(u / 0.75 - 1)
# x <= -2: Ai(x) = M / (sqrt(pi) |x|^1/4) sin(zeta + pi/4 + D), M and D Chebyshev in 2u/u(2) - 1
_AIRY_POS = (0.9637683609849688896, -0.032416000194485925205, 0.0031941239613695835455,
    -0.00049422540503301569954, 0.000097065179425465946209, -0.000022244445112002981296,
    5.6948389879203430912e-6, -1.5868397039029867482e-6, 4.7311609911660024168e-7,
    -1.4914679268537125731e-7, 4.9282012394543470797e-8, -1.6955948660827913109e-8,
    6.0433224591863021752e-9, -2.2220862485979765654e-9, 8.4008083301014130057e-10,
    -3.2564980497900166868e-10, 1.2913338128187496705e-10, -5.227872191419495987e-11,
    2.1571120180559685412e-11, -9.0582219098045042866e-12, 3.8661427181794897189e-12,
    -1.6752774093903056269e-12, 7.3626636341337858267e-13, -3.2789553078988362523e-13,
    1.4785693873897686738e-13, -6.7459272277098989259e-14, 3.1120984679855728971e-14,
    -1.4508441986007411284e-14, 6.8314165673156118475e-15, -3.2472075568584488461e-15,
    1.5574818341550470326e-15, -7.534762834516680095e-16, 3.6752234022838357685e-16,
    -1.8068071063373415096e-16, 8.9497561855018608062e-17, -4.4652881839005702699e-17,
    2.2433819359991273798e-17, -1.1346375254410153757e-17, 5.7756846484917075398e-18,
    -2.9582930657326855875e-18)
_AIRY_MOD = (0.9970075561098321748, -0.0038469910186222618396, -0.000764549745315258571,
    0.000089619783375587380309, -2.3782480178683376554e-6, -1.5150796625667144949e-6,
    4.3135561673296478307e-7, -6.073249420062965053e-8, -1.1717725178883994114e-9,
    3.7281388446469028196e-9, -1.3373873944370039623e-9, 2.8568945735133378669e-10,
    -2.1997696662630507434e-11, -1.3494225718598043657e-11, 8.4093993395994498132e-12,
    -2.926656961844436248e-12, 6.7680311528238072894e-13, -5.4411863824963613721e-14,
    -4.4989376823008271989e-14, 3.2055722301811615395e-14, -1.3382342556200339795e-14,
    4.0236022745897769283e-15, -7.3303367997489648518e-16, -8.1715398680533151431e-17,
    1.5478758554444131349e-16, -8.9720673508383879601e-17, 3.7000442391957629777e-17,
    -1.1497355117078855403e-17, 2.1709954782516441614e-18, 3.1254967766467987655e-19,
    -5.7607617089008913287e-19, 3.6280192773119314999e-19, -1.6670920043117947967e-19,
    6.0205189098683178546e-20, -1.5528552217056200534e-20, 8.9995819245500334529e-22)
_AIRY_PHASE = (-0.017278502878934332074, -0.016771117423779868582, 0.00056179952350642971265,
    0.000039704272124082525237, -0.000013147616076513279678, 1.6616065647078884912e-6,
    8.1695801977070440407e-9, -6.7230829748755696317e-8, 2.0786097545092222729e-8,
    -3.5478050476875965561e-9, 4.9437036153133018844e-11, 2.2568888609238113643e-10,
    -1.0135028547227874255e-10, 2.7646593857758515788e-11, -4.2514449850479698633e-12,
    -4.9104869163857341459e-13, 6.816162536434386898e-13, -3.1466921882723362719e-13,
    9.8992214136611585567e-14, -2.0023487674670890419e-14, -2.3554121790411070088e-16,
    2.6650967466855304175e-15, -1.6126170919426792857e-15, 6.5608629929292656064e-16,
    -1.9700543333396497249e-16, 3.4855789450001152663e-17, 5.8551382818690322369e-18,
    -9.264341584615692295e-18, 5.4782345371450963215e-18, -2.3591954281015523624e-18,
    7.8255422944868309358e-19, -1.7041211520828615654e-19, -8.8045547337694777307e-21,
    3.6079077298636318392e-20, -2.5417508809543093493e-20, 1.2723256936530335144e-20)
_AIRY_U2 = 1.0 / (2.0 / 3.0 * 2.0 ** 1.5)   # u at |x| = 2
_AIRY_C1, _AIRY_C2 = 0.35502805388781723926, 0.25881940379280679840  # Ai(0), -Ai'(0)


def _airy_ai_forward(xp, x):
    mid = (x > -2.0) & (x < 1.0)
    s = _safe(xp, mid, x, 0.0)
    cube = s * s * s
    f = t = xp.ones_like(s)
    g = u = s
    for k in range(24):  # Maclaurin series: Ai = c1 f - c2 g
        t = t * cube / ((3 * k + 2) * (3 * k + 3))
        u = u * cube / ((3 * k + 3) * (3 * k + 4))
        f, g = f + t, g + u
    series = _AIRY_C1 * f - _AIRY_C2 * g
    pos = x >= 1.0
    xpos = _safe(xp, pos, x, 1.0)
    zeta = (2.0 / 3.0) * xpos * xp.sqrt(xpos)
    right = _clenshaw(xp, _AIRY_POS, (1.0 / zeta) / 0.75 - 1.0) * xp.exp(-zeta) / (
        2.0 * _SQRT_PI * xp.sqrt(xp.sqrt(xpos)))
    neg = x <= -2.0
    y = _safe(xp, neg, -x, 2.0)
    zy = (2.0 / 3.0) * y * xp.sqrt(y)
    ty = 2.0 * (1.0 / zy) / _AIRY_U2 - 1.0
    a = _clenshaw(xp, _AIRY_PHASE, ty) + math.pi / 4
    left = _clenshaw(xp, _AIRY_MOD, ty) / (_SQRT_PI * xp.sqrt(xp.sqrt(y))) * (
        xp.sin(zy) * xp.cos(a) + xp.cos(zy) * xp.sin(a))
    out = xp.where(mid, series, xp.where(pos, right, left))
    return xp.where(xp.isinf(x) | xp.isnan(x), xp.nan, out)  # PyTorch: nan at +-inf


AIRY_AI = defop("airy_ai", _fast("airy", _widen(_airy_ai_forward),
                                 call_native=lambda fn, x: fn(x)[0]))

__all__ += ["AIRY_AI"]
