"""Version ranges as package.json's `depends` writes them."""

from __future__ import annotations

import pytest

from metadata.versions import Version, VersionError, VersionRange, dependency_problems


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">=1.0,<2", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0", "2.0.0-beta.1"]),
        ("^1.2.3", ["1.2.3", "1.9.0"], ["1.2.2", "2.0.0"]),
        ("^0.3.1", ["0.3.1", "0.3.9"], ["0.4.0"]),
        ("~1.2", ["1.2.0", "1.2.9"], ["1.3.0", "1.1.9"]),
        ("==1.2", ["1.2.0", "1.2.7"], ["1.3.0"]),
        ("!=1.2.3", ["1.2.4"], ["1.2.3"]),
        ("*", ["0.0.1", "9.9.9"], []),
        (">1.0.0", ["1.0.1"], ["1.0.0", "1.0.0-rc.1"]),
    ],
)
def test_a_range_admits_the_versions_inside_it(text: str, inside: list[str], outside: list[str]) -> None:
    wanted = VersionRange.parse(text)
    assert [v for v in inside if not wanted.admits(v)] == []
    assert [v for v in outside if wanted.admits(v)] == []


def test_pre_releases_sort_before_their_release() -> None:
    assert Version.parse("1.0.0-alpha") < Version.parse("1.0.0-alpha.1") < Version.parse("1.0.0-beta")
    assert Version.parse("1.0.0-beta.11") > Version.parse("1.0.0-beta.2")
    assert Version.parse("1.0.0-rc.1") < Version.parse("1.0.0") < Version.parse("1.0.1")


def test_a_range_that_cannot_be_read_says_so() -> None:
    with pytest.raises(VersionError, match="not a version"):
        VersionRange.parse(">=one")


def test_dependency_problems_name_the_package_and_the_range() -> None:
    manifest = {"name": "factory", "depends": {"crm": ">=1.0,<2", "billing": "^1"}}
    problems = dependency_problems(manifest, {"crm": "2.1.0"})
    assert problems == [
        "factory needs crm >=1.0,<2, but crm 2.1.0 is installed",
        "factory needs billing ^1, which is not installed",
    ]
