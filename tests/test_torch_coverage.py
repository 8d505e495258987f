"""The PyTorch coverage table generator (xgrad.torch_coverage): it runs, it probes
gradients against PyTorch, and the sections of issue 12's part 3 are covered."""

import pytest

from xgrad import torch_coverage as tc


@pytest.fixture(scope="module")
def table_rows():
    return tc.rows(probe=False)


def test_every_namespace_is_listed(table_rows):
    namespaces = {r["ns"] for r in table_rows}
    assert namespaces == {"torch", "Tensor", "linalg", "special", "nn.functional"}
    names = {(r["ns"], r["name"]) for r in table_rows}
    for expected in (("torch", "gather"), ("torch", "einsum"), ("Tensor", "scatter_add_"),
                     ("linalg", "lstsq"), ("nn.functional", "cross_entropy")):
        assert expected in names


def test_sections_come_from_pytorchs_docs(table_rows):
    section = {r["name"]: r["section"] for r in table_rows if r["ns"] == "torch"}
    assert section["gather"] == "Indexing, Slicing, Joining, Mutating Ops"
    assert section["einsum"] == "Other Operations"
    assert section["addmm"] == "BLAS and LAPACK Operations"
    assert section["exp"] == "Pointwise Ops"


def test_probe_compares_gradients_with_pytorch():
    import torch
    import xgrad
    assert tc._probe("gather", torch.gather, xgrad.gather) == "✓"
    assert tc._probe("addmm", torch.addmm, xgrad.addmm) == "✓"
    assert tc._probe("kron", None, None, method=True) == "✓"       # as a Tensor method
    assert tc._probe("argmax", torch.argmax, xgrad.argmax) == "–"  # no gradient in PyTorch either

    def wrong(x, *args):  # a forward that disagrees is reported, not hidden
        return xgrad.exp(x) * 2
    assert tc._probe("exp", torch.exp, wrong) == "values differ"


def test_table_is_markdown_with_counts():
    text = tc.table(probe=False)
    assert text.startswith("# PyTorch coverage")
    assert "| Indexing, Slicing, Joining, Mutating Ops |" in text
    assert "## `torch.nn.functional`" in text


# the sections of part 3 this generator measures; per section the share xgrad has
# (the nn.functional activations/losses are measured in the table and the README)
@pytest.mark.parametrize("section", ["Indexing, Slicing, Joining, Mutating Ops", "Other Operations",
                                     "BLAS and LAPACK Operations", "Pointwise Ops",
                                     "Reduction Ops", "Comparison Ops"])
def test_part3_sections_are_at_least_90_percent_covered(table_rows, section):
    present, total = tc.section_coverage(table_rows)[section]
    assert total > 10
    assert present / total >= 0.9, (section, present, total)


def test_part3_as_a_whole_is_at_least_90_percent_covered(table_rows):
    """Issue 12's bar: the sections of part 3 together, nn.functional's common
    activations, normalizations and losses included."""
    present, total = tc.section_coverage(table_rows)["total"]
    assert present / total >= 0.9, (present, total)
