"""xgrad.utils.data: datasets, samplers, collation and the DataLoader, against
torch.utils.data where the result is deterministic, on every device."""

import collections

import numpy as np
import pytest

import xgrad
from xgrad.testing import to_numpy
from xgrad.utils import data

torch = pytest.importorskip("torch")
tdata = torch.utils.data


def X(a, device, **kw):
    return xgrad.asarray(np.asarray(a), device=device, **kw)


def arr(v):
    if isinstance(v, torch.Tensor):
        return v.numpy()
    return to_numpy(v.detach()) if isinstance(v, xgrad.Tensor) else np.asarray(v)


def same_structure(got, want):
    """Equal values and (PyTorch-named) dtypes, recursively."""
    if isinstance(want, torch.Tensor):
        assert isinstance(got, xgrad.Tensor)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_array_equal(arr(got), arr(want))
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys()
        for k in want:
            same_structure(got[k], want[k])
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            same_structure(g, w)
    else:
        assert got == want


def test_tensor_dataset(device):
    x, y = X(np.arange(12.0).reshape(6, 2), device), X(np.arange(6), device)
    ds = data.TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    np.testing.assert_array_equal(arr(a), [8.0, 9.0])
    assert int(b.item()) == 4 and a.device == x.device
    with pytest.raises(AssertionError):
        data.TensorDataset(x, X(np.arange(5), device))


@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batches_in_order(device, drop_last):
    x = X(np.arange(23.0).reshape(23, 1), device)
    y = X(np.arange(23), device)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=5, drop_last=drop_last)
    tloader = tdata.DataLoader(tdata.TensorDataset(torch.arange(23.0).reshape(23, 1), torch.arange(23)),
                               batch_size=5, drop_last=drop_last)
    assert len(loader) == len(tloader)
    batches = list(loader)
    assert len(batches) == len(tloader)
    for (xb, yb), (txb, tyb) in zip(batches, tloader):
        assert xb.device == x.device and yb.dtype == xgrad.int64
        np.testing.assert_array_equal(arr(xb), txb.numpy())
        np.testing.assert_array_equal(arr(yb), tyb.numpy())


def test_shuffle_is_seeded_and_covers_everything(device):
    ds = data.TensorDataset(X(np.arange(50), device))
    xgrad.manual_seed(3)
    first = [arr(b[0]).tolist() for b in data.DataLoader(ds, batch_size=8, shuffle=True)]
    second = [arr(b[0]).tolist() for b in data.DataLoader(ds, batch_size=8, shuffle=True)]
    xgrad.manual_seed(3)
    again = [arr(b[0]).tolist() for b in data.DataLoader(ds, batch_size=8, shuffle=True)]
    assert first == again and first != second
    flat = sum(first, [])
    assert sorted(flat) == list(range(50)) and flat != list(range(50))
    loader = data.DataLoader(ds, batch_size=8, shuffle=True)
    assert [arr(b[0]).tolist() for b in loader] != [arr(b[0]).tolist() for b in loader]  # per epoch


def test_generator_argument(device):
    ds = data.TensorDataset(X(np.arange(20), device))
    runs = [[arr(b[0]).tolist() for b in data.DataLoader(ds, batch_size=4, shuffle=True,
                                                      generator=np.random.default_rng(7))]
            for _ in range(2)]
    assert runs[0] == runs[1]
    g = torch.Generator().manual_seed(5)
    parts = data.random_split(range(10), [0.5, 0.5], generator=g)
    g2 = torch.Generator().manual_seed(5)
    assert list(parts[0]) == list(data.random_split(range(10), [0.5, 0.5], generator=g2)[0])


def test_gradient_flows_through_batches(device):
    w = X(np.arange(6.0).reshape(3, 2), device, dtype=xgrad.float64, requires_grad=True)
    loader = data.DataLoader(data.TensorDataset(w * 2), batch_size=2, shuffle=True)
    total = sum((b[0] ** 2).sum() for b in loader)
    total.backward()
    np.testing.assert_allclose(arr(w.grad), 8 * np.arange(6.0).reshape(3, 2))


def test_default_collate_matches_torch(device):
    Point = collections.namedtuple("Point", ["x", "y"])
    samples = [
        [(1, 2.5, True, "a"), (3, 4.5, False, "b")],
        [{"img": np.ones((2, 2), dtype=np.float32) * i, "label": i} for i in range(3)],
        [Point(i, float(i)) for i in range(3)],
        [[np.int64(i), np.float64(i / 2)] for i in range(4)],
    ]
    for batch in samples:
        same_structure(data.default_collate(batch), tdata.default_collate(batch))
    t = [X(np.full((2,), float(i)), device) for i in range(3)]
    out = data.default_collate(t)
    assert out.shape == (3, 2) and out.device == t[0].device
    with pytest.raises(RuntimeError):
        data.default_collate([X(np.ones(2), device), X(np.ones(3), device)])


def test_map_dataset_collate_fn_and_no_batching(device):
    class Squares(data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": X(np.array([float(i)]), device), "y": i * i}

    batches = list(data.DataLoader(Squares(), batch_size=3))
    assert len(batches) == 3 and batches[0]["x"].shape == (3, 1)
    assert arr(batches[2]["y"]).tolist() == [36]
    raw = list(data.DataLoader(Squares(), batch_size=None))
    assert len(raw) == 7 and raw[3]["y"] == 9
    lists = list(data.DataLoader(Squares(), batch_size=4, collate_fn=lambda b: [s["y"] for s in b]))
    assert lists == [[0, 1, 4, 9], [16, 25, 36]]


def test_iterable_dataset(device):
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(10))

    assert [arr(b).tolist() for b in data.DataLoader(Stream(), batch_size=4)] == \
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(list(data.DataLoader(Stream(), batch_size=4, drop_last=True))) == 2
    with pytest.raises(ValueError):
        data.DataLoader(Stream(), shuffle=True)
    chained = list(data.ChainDataset([Stream(), Stream()]))
    assert chained == list(range(10)) * 2


def test_subset_concat_random_split(device):
    base = data.TensorDataset(X(np.arange(10), device))
    sub = data.Subset(base, [9, 2, 4])
    assert len(sub) == 3 and int(sub[0][0].item()) == 9
    both = base + sub
    assert isinstance(both, data.ConcatDataset) and len(both) == 13
    assert int(both[11][0].item()) == 2 and int(both[-1][0].item()) == 4
    tboth = tdata.ConcatDataset([range(10), [9, 2, 4]])
    assert both.cumulative_sizes == tboth.cumulative_sizes
    xgrad.manual_seed(0)
    parts = data.random_split(base, [0.3, 0.3, 0.4])
    tparts = tdata.random_split(range(10), [0.3, 0.3, 0.4])
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    seen = sorted(int(p[i][0].item()) for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    assert [len(p) for p in data.random_split(range(7), [0.5, 0.5])] == \
        [len(p) for p in tdata.random_split(range(7), [0.5, 0.5])]
    with pytest.raises(ValueError):
        data.random_split(range(7), [3, 3])


def test_samplers():
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert list(data.BatchSampler(range(7), 3, False)) == list(tdata.BatchSampler(range(7), 3, False))
    assert list(data.BatchSampler(range(7), 3, True)) == list(tdata.BatchSampler(range(7), 3, True))
    assert len(data.BatchSampler(range(7), 3, False)) == 3
    xgrad.manual_seed(1)
    r = list(data.RandomSampler(range(5)))
    assert sorted(r) == list(range(5))
    rr = list(data.RandomSampler(range(5), replacement=True, num_samples=40))
    assert len(rr) == 40 and set(rr) <= set(range(5))
    s = list(data.SubsetRandomSampler([10, 11, 12]))
    assert sorted(s) == [10, 11, 12]
    w = list(data.WeightedRandomSampler([0.0, 1.0, 3.0], 400))
    assert 0 not in w and 0.6 < w.count(2) / 400 < 0.9
    loader = data.DataLoader(range(6), batch_sampler=data.BatchSampler(range(6), 4, False))
    assert [arr(b).tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    with pytest.raises(ValueError):
        data.DataLoader(range(6), sampler=data.SequentialSampler(range(6)), shuffle=True)


def test_d2l_linear_regression(device):
    """The concise linear regression of "Dive into Deep Learning", chapter 3.3."""
    xgrad.manual_seed(0)
    true_w, true_b = X(np.array([2.0, -3.4]), device, dtype=xgrad.float32), 4.2
    features = xgrad.randn(1000, 2, device=device)
    labels = (xgrad.matmul(features, true_w) + true_b).reshape(-1, 1)
    labels = labels + 0.01 * xgrad.randn(*labels.shape, device=device)
    data_iter = data.DataLoader(data.TensorDataset(features, labels), batch_size=10, shuffle=True)
    xb, yb = next(iter(data_iter))
    assert xb.shape == (10, 2) and yb.shape == (10, 1)
    net = xgrad.nn.Sequential(xgrad.nn.Linear(2, 1)).to(device)
    loss = xgrad.nn.MSELoss()
    trainer = xgrad.optim.SGD(net.parameters(), lr=0.03)
    for _ in range(3):
        for xb, yb in data_iter:
            batch_loss = loss(net(xb), yb)
            trainer.zero_grad()
            batch_loss.backward()
            trainer.step()
    w = arr(net[0].weight.detach()).ravel()
    np.testing.assert_allclose(w, [2.0, -3.4], atol=5e-3)
    assert abs(float(net[0].bias.item()) - 4.2) < 5e-3
