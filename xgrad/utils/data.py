"""PyTorch's ``torch.utils.data``: datasets, samplers and the ``DataLoader``.

    from xgrad.utils import data
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=10, shuffle=True)
    for xb, yb in loader:
        ...

Batches are collated by :func:`default_collate`: tensors are stacked on their
own device (a ``TensorDataset`` batch is one indexing per tensor, not a stack of
rows), numbers become tensors, tuples/lists/dicts are collated field by field.
Shuffling draws from xgrad's generator, so ``xgrad.manual_seed`` makes it
reproducible; ``generator=`` may also be a NumPy ``Generator`` or any object
with ``initial_seed()`` (such as ``torch.Generator``). Loading happens in the
main process: ``num_workers`` and ``pin_memory`` are accepted and ignored.
"""

from __future__ import annotations

import bisect
import collections.abc
import itertools
import math
import numbers
import warnings

import numpy as np

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DataLoader", "default_collate", "default_convert", "get_worker_info"]


def _xgrad():
    import xgrad
    return xgrad


# -- randomness -------------------------------------------------------------------------------
def _permutation(n, generator=None):
    """A random permutation of range(n) as a list of ints."""
    if generator is None:
        return _xgrad().randperm(n, device="cpu").tolist()
    return _numpy_rng(generator).permutation(n).tolist()


def _numpy_rng(generator):
    if isinstance(generator, np.random.Generator):
        return generator
    if hasattr(generator, "initial_seed"):
        # a torch-style generator: its seed, advanced on every use so epochs differ
        state = getattr(generator, "_xgrad_numpy_rng", None)
        if state is None:
            state = np.random.default_rng(int(generator.initial_seed()))
            try:
                generator._xgrad_numpy_rng = state
            except AttributeError:  # a generator that takes no attributes: same draws each time
                pass
        return state
    if isinstance(generator, numbers.Integral):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, a NumPy Generator, a seed or have initial_seed(); "
                    f"got {type(generator).__name__}")


def _uniform(generator, size):
    if generator is None:
        return _xgrad().rand(size, dtype=_xgrad().float64, device="cpu").tolist()
    return _numpy_rng(generator).random(size).tolist()


# -- datasets ---------------------------------------------------------------------------------
class Dataset:
    """A map-style dataset: ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is an iterable of samples (``__iter__``)."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows ``(t[i] for t in tensors)`` of tensors sharing their first size."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        if any(not t.ndim or t.shape[0] != n for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Samples are tuples (or dicts) of the samples of several datasets of one length."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        self.datasets = args or kwargs
        items = list(args) if args else list(kwargs.values())
        self._length = len(items[0])
        if any(len(d) != self._length for d in items):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """The chaining of iterable datasets."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (or
    fractions summing to 1, the remainder spread one by one as PyTorch does)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.")
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _permutation(n, generator)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + length]))
        start += length
    return out


# -- samplers ---------------------------------------------------------------------------------
class Sampler:
    """An iterable of dataset indices (or of batches of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation (or ``num_samples`` draws with ``replacement``), new each epoch."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:
            u = _uniform(self.generator, self.num_samples)
            return iter([min(int(v * n), n - 1) for v in u])
        out = []
        while len(out) < self.num_samples:
            out.extend(_permutation(n, self.generator))
        return iter(out[:self.num_samples])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        return iter([self.indices[i] for i in _permutation(len(self.indices), self.generator)])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(weights.tolist() if hasattr(weights, "tolist") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError("weights should be a 1d sequence")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rng = _numpy_rng(self.generator) if self.generator is not None else \
            np.random.default_rng(int(_xgrad().randint(0, 2 ** 62, (1,), device="cpu").item()))
        p = self.weights / self.weights.sum()
        return iter(rng.choice(len(p), self.num_samples, replace=self.replacement, p=p).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless
    ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


# -- collation ---------------------------------------------------------------------------------
def default_convert(data):
    """NumPy arrays (and numbers in them) to tensors, recursing into containers."""
    xgrad = _xgrad()
    if isinstance(data, xgrad.Tensor):
        return data
    if isinstance(data, np.ndarray) and data.dtype.kind in "biufc":
        return xgrad.asarray(data)
    if isinstance(data, np.generic) and data.dtype.kind in "biufc":
        return xgrad.asarray(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


def default_collate(batch):
    """Merge a list of samples into a batch: tensors are stacked (on their device),
    NumPy arrays and Python numbers become tensors (float64 for floats, int64 for
    ints, as PyTorch), strings stay a list, and tuples, lists and dicts are collated
    field by field."""
    xgrad = _xgrad()
    elem = batch[0]
    if isinstance(elem, xgrad.Tensor):
        batch = list(batch)
        if any(b.shape != elem.shape for b in batch):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(elem.shape)} at entry 0 and a different size elsewhere")
        return xgrad.stack(list(batch), dim=0)
    if isinstance(elem, np.ndarray) and elem.dtype.kind in "biufc":
        return default_collate([xgrad.asarray(b) for b in batch])
    if isinstance(elem, np.generic) and elem.dtype.kind in "biufc":
        return xgrad.asarray(np.stack(batch))
    if isinstance(elem, bool):
        return xgrad.tensor(list(batch), dtype=xgrad.bool)
    if isinstance(elem, numbers.Integral):
        return xgrad.tensor(list(batch), dtype=xgrad.int64)
    if isinstance(elem, numbers.Real):
        return xgrad.tensor(list(batch), dtype=xgrad.float64)
    if isinstance(elem, complex):
        return xgrad.tensor(list(batch), dtype=xgrad.complex128)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(s) for s in zip(*batch)]  # a list also for tuples (PyTorch)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


def get_worker_info():
    """None: xgrad loads data in the main process."""
    return None


# -- the loader ----------------------------------------------------------------------------------
class DataLoader:
    """Iterate over ``dataset`` in batches.

    ``batch_size`` (None: single samples, converted but not collated), ``shuffle``
    (a new random order each epoch), ``drop_last``, ``sampler`` / ``batch_sampler``,
    ``collate_fn`` (default :func:`default_collate`) and ``generator`` as in PyTorch.
    ``num_workers``, ``pin_memory``, ``timeout``, ``prefetch_factor`` and
    ``persistent_workers`` are accepted; loading happens in the main process
    (``worker_init_fn`` is called once, with worker id 0, when ``num_workers > 0``).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "sampler/batch_sampler option")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._started = False

    def __iter__(self):
        if self.num_workers > 0 and self.worker_init_fn is not None and not self._started:
            self.worker_init_fn(0)
        self._started = True
        if self._iterable:
            return self._iter_iterable()
        if self._auto_collation:
            return self._iter_batches()
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    def _iter_batches(self):
        fast = type(self.dataset) is TensorDataset and self.collate_fn is default_collate
        for indices in self.batch_sampler:
            if fast:  # one gather per tensor instead of a stack of rows
                yield [_take_rows(t, indices) for t in self.dataset.tensors]
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iter_iterable(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


def _take_rows(t, indices):
    """``t[indices]`` (the rows a batch holds), as one take on ``t``'s device."""
    from ..ops.indexing import take
    idx = _xgrad().asarray(np.asarray(indices, dtype=np.int64), device=t.device)
    return take(t, idx, axis=0)
