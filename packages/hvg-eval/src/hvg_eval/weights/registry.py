"""The weight files hvg-eval knows, where it looks for them and how it checks them.

Search order (first hit wins): ``weights_dir`` (``--weights-dir``), ``$HVG_EVAL_WEIGHTS``
(``os.pathsep``-separated), the user cache ``$XDG_CACHE_HOME/hvg-eval/weights``
(``~/.cache/hvg-eval/weights``), torch's hub cache ``$TORCH_HOME/hub/checkpoints`` (so files that
pytorch-fid, torchvision or torch-fidelity already downloaded are found), and for a few files the
place where their reference package keeps them (the LPIPS heads inside an installed ``lpips``
wheel, found without importing it). Nothing is ever downloaded.

Digests come from research/metrics.md §3. Where only a git blob SHA-1 or a torch.hub SHA-256
prefix is published, that is what is checked, and the full SHA-256 is still recorded in every
result. Every check hashes the file; the digests are also recorded in the user cache (keyed by
path, size and mtime), which only ``hvg-eval weights verify --fast`` trusts: a file swapped for
other bytes of the same size, with its mtime restored, would pass a cached check.

A file with no published digest is checked against its committed state-dict manifest (keys and
shapes) and must not be degenerate (:func:`degenerate_reason`): all-zero or constant weight
matrices, or non-finite values, are refused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hvg_core.errors import InputError, MissingResourceError

DigestKind = Literal["sha256", "sha256-prefix", "sha1", "git-blob-sha1", "none"]
ENV_WEIGHTS = "HVG_EVAL_WEIGHTS"


@dataclass(frozen=True)
class WeightFile:
    """One reference weight file.

    Attributes:
        key: Registry key, e.g. ``"i3d-pt"``.
        filename: File name the references use.
        description: What it is.
        needed_for: Metrics (and protocols) that need it.
        digest: Expected digest (hex), of kind ``digest_kind``.
        digest_kind: ``sha256``, ``sha256-prefix`` (torch.hub naming), ``sha1``,
            ``git-blob-sha1`` (``git hash-object FILE``) or ``none``.
        size: Exact byte size where published, else ``None``.
        approx_size: Human-readable size for messages.
        sources: Public URLs to get it from.
        licence: Licence note.
        aliases: Other file names of the same bytes.
        manifest: Name of the committed key/shape manifest (``manifests/<name>.json``).
        loader: ``"state_dict"`` or ``"torchscript"``.
        package_dirs: ``(package, subdir)`` pairs: installed packages that ship the file.
    """

    key: str
    filename: str
    description: str
    needed_for: str
    digest: str
    digest_kind: DigestKind
    size: int | None
    approx_size: str
    sources: tuple[str, ...]
    licence: str
    aliases: tuple[str, ...] = ()
    manifest: str | None = None
    loader: Literal["state_dict", "torchscript"] = "state_dict"
    package_dirs: tuple[tuple[str, str], ...] = field(default_factory=tuple)


WEIGHT_FILES: dict[str, WeightFile] = {
    entry.key: entry
    for entry in (
        WeightFile(
            key="fid-inception-pt",
            filename="pt_inception-2015-12-05-6726825d.pth",
            description="FID Inception-v3 (TF 2015-12-05 port), pytorch-fid state dict",
            needed_for="FID (protocol disco)",
            digest="bd836944fd6db519dfd8d924aa457f5b3c8357ff",
            digest_kind="sha1",
            size=None,
            approx_size="≈92 MB",
            sources=(
                "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                "pt_inception-2015-12-05-6726825d.pth",
                "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                "weights-inception-2015-12-05-6726825d.pth",
            ),
            licence="Apache-2.0 (port of TensorFlow's inception-2015-12-05 weights)",
            aliases=("weights-inception-2015-12-05-6726825d.pth",),
            manifest="fid_inception_v3",
        ),
        WeightFile(
            key="fid-inception-ts",
            filename="inception-2015-12-05.pt",
            description="FID Inception-v3 TorchScript (NVIDIA; clean-fid)",
            needed_for="FID (protocols clean, stylegan-v)",
            digest="f58cb9b6ec323ed63459aa4fb441fe750cfe39fafad6da5cb504a16f19e958f4",
            digest_kind="sha256",
            size=None,
            approx_size="≈96 MB",
            sources=(
                "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/"
                "inception-2015-12-05.pt",
            ),
            licence="derived from Apache-2.0 TensorFlow weights; hosted by NVIDIA",
            loader="torchscript",
        ),
        WeightFile(
            key="lpips-vgg16",
            filename="vgg16-397923af.pth",
            description="torchvision VGG16 ImageNet weights (LPIPS trunk)",
            needed_for="LPIPS",
            digest="397923af",
            digest_kind="sha256-prefix",
            size=None,
            approx_size="≈528 MB",
            sources=("https://download.pytorch.org/models/vgg16-397923af.pth",),
            licence="torchvision BSD-3 code; ImageNet-trained weights",
            manifest="vgg16_features",
        ),
        WeightFile(
            key="lpips-lin-vgg",
            filename="vgg.pth",
            description="LPIPS v0.1 linear heads for VGG16",
            needed_for="LPIPS",
            digest="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
            digest_kind="sha256",
            size=7289,
            approx_size="7 KB",
            sources=(
                "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/"
                "v0.1/vgg.pth (also inside the lpips and torchmetrics wheels)",
            ),
            licence="BSD-2-Clause (Zhang, Isola, Efros, Shechtman, Wang)",
            aliases=("LPIPS_v0.1_vgg-a78928a0.pth",),
            manifest="lpips_heads_vgg",
            package_dirs=(
                ("lpips", "weights/v0.1"),
                ("torchmetrics", "functional/image/lpips_models"),
            ),
        ),
        WeightFile(
            key="i3d-pt",
            filename="i3d_pretrained_400.pt",
            description="I3D Kinetics-400 (converted from tf.hub deepmind/i3d-kinetics-400/1)",
            needed_for="FVD (protocol disco)",
            digest="a867b87ac3a9097d200598b1d48a1b890d8ec744",
            digest_kind="git-blob-sha1",
            size=None,
            approx_size="≈51 MB",
            sources=(
                "https://github.com/songweige/TATS/raw/main/tats/fvd/i3d_pretrained_400.pt",
                "Google Drive link in https://github.com/Wangt-CN/DisCo/issues/25",
            ),
            licence="conversion of DeepMind's Kinetics-I3D (Apache-2.0)",
            manifest="i3d",
        ),
        WeightFile(
            key="i3d-ts",
            filename="i3d_torchscript.pt",
            description="I3D TorchScript of StyleGAN-V (tf.hub I3D port)",
            needed_for="FVD (protocol stylegan-v)",
            digest="93daef59c7ae0e9e8f76225521407e60cbafa6aa",
            digest_kind="git-blob-sha1",
            size=None,
            approx_size="≈51 MB",
            sources=("https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1",),
            licence="port of the tf.hub I3D; no licence stated for the file",
            loader="torchscript",
        ),
        WeightFile(
            key="r3d50-kinetics",
            filename="resnet-50-kinetics.pth",
            description="3-D ResNet-50 Kinetics (Hara et al., shortcut B)",
            needed_for="FID-VID",
            digest="",
            digest_kind="none",
            size=None,
            approx_size="≈190 MB",
            sources=(
                "https://github.com/kenshohara/3D-ResNets-PyTorch (Google Drive, CVPR2018 models)",
                "https://github.com/yjh0410/YOWOF/releases/download/yowof-weight/"
                "resnet-50-kinetics.pth",
            ),
            licence="code MIT (kenshohara/3D-ResNets-PyTorch); Kinetics-trained weights",
            manifest="resnet3d50",
        ),
    )
}


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hvg-eval" / "weights"


def _torch_hub_checkpoints() -> Path:
    torch_home = os.environ.get("TORCH_HOME")
    if not torch_home:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        torch_home = os.path.join(base, "torch")
    return Path(torch_home) / "hub" / "checkpoints"


def _package_dir(package: str, subdir: str) -> Path | None:
    # find_spec locates a top-level package without importing it (lpips imports torchvision).
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / subdir


def search_directories(
    weights_dir: str | os.PathLike[str] | None = None, entry: WeightFile | None = None
) -> list[tuple[str, Path]]:
    """Directories searched, in order, each with a label saying where it comes from.

    Args:
        weights_dir: The ``--weights-dir`` / ``weights_dir=`` directory, if any.
        entry: Add the directories of packages that ship this file.
    """
    places: list[tuple[str, Path]] = []
    if weights_dir is not None:
        places.append(("--weights-dir", Path(weights_dir)))
    for part in os.environ.get(ENV_WEIGHTS, "").split(os.pathsep):
        if part.strip():
            places.append((f"${ENV_WEIGHTS}", Path(part.strip())))
    places.append(("user cache", _user_cache()))
    places.append(("torch hub cache", _torch_hub_checkpoints()))
    if entry is not None:
        for package, subdir in entry.package_dirs:
            found = _package_dir(package, subdir)
            if found is not None:
                places.append((f"installed {package}", found))
    return places


def find_weight_file(
    key: str, weights_dir: str | os.PathLike[str] | None = None
) -> tuple[Path | None, list[tuple[str, Path]]]:
    """First existing file for ``key`` along the search path, and the places searched."""
    entry = WEIGHT_FILES[key]
    places = search_directories(weights_dir, entry)
    for _label, directory in places:
        for name in (entry.filename, *entry.aliases):
            candidate = directory / name
            if candidate.is_file():
                return candidate, places
    return None, places


def _digest_cache_path() -> Path:
    return _user_cache().parent / "sha256-cache.json"


def sha256_of(path: str | os.PathLike[str], *, use_cache: bool = False) -> str:
    """SHA-256 of a file, recorded per (absolute path, size, mtime) in the user cache.

    The cache lives in ``$XDG_CACHE_HOME/hvg-eval/sha256-cache.json`` rather than beside the
    file, so read-only or shared weight directories (and installed wheels) are never written to.

    Args:
        path: The file.
        use_cache: Return the cached digest when path, size and mtime match (fast, but blind to
            a same-size swap with the mtime restored). By default the file is always hashed and
            the cache only refreshed.
    """
    file = Path(path).resolve()
    stat = file.stat()
    key = str(file)
    cache_file = _digest_cache_path()
    cache: dict[str, dict[str, object]] = {}
    if cache_file.is_file():
        try:
            loaded = json.loads(cache_file.read_text())
            cache = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            cache = {}  # a corrupt cache is only a miss; it is rewritten below
    entry = cache.get(key)
    if (
        use_cache
        and isinstance(entry, dict)
        and entry.get("size") == stat.st_size
        and entry.get("mtime_ns") == stat.st_mtime_ns
        and isinstance(entry.get("sha256"), str)
    ):
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    value = digest.hexdigest()
    cache[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": value}
    temporary = cache_file.with_name(cache_file.name + f".tmp{os.getpid()}")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(cache, indent=1))
        os.replace(temporary, cache_file)
    except OSError:
        # An unwritable cache only costs re-hashing next time; the digest is still correct.
        temporary.unlink(missing_ok=True)
    return value


def _sha1_of(path: Path, *, git_blob: bool) -> str:
    digest = hashlib.sha1()
    if git_blob:
        digest.update(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Verification:
    """Outcome of checking one file.

    Attributes:
        path: The file.
        sha256: Its full SHA-256.
        ok: Whether it matched the published digest (``True`` when none is published).
        checked: What was compared, e.g. ``"git-blob-sha1 a867…"`` or ``"no published digest"``.
    """

    path: Path
    sha256: str
    ok: bool
    checked: str


def verify_file(key: str, path: str | os.PathLike[str], *, fast: bool = False) -> Verification:
    """Compare a file with the registry's digest and size for ``key``.

    Args:
        key: Registry key.
        path: The file.
        fast: Trust the digest cache (``weights verify --fast``); by default the file is hashed.
    """
    entry = WEIGHT_FILES[key]
    file = Path(path)
    sha256 = sha256_of(file, use_cache=fast)
    if entry.size is not None and file.stat().st_size != entry.size:
        return Verification(file, sha256, False, f"size {entry.size} bytes")
    kind = entry.digest_kind
    if kind == "sha256":
        ok = sha256 == entry.digest
    elif kind == "sha256-prefix":
        ok = sha256.startswith(entry.digest)
    elif kind == "sha1":
        ok = _sha1_of(file, git_blob=False) == entry.digest
    elif kind == "git-blob-sha1":
        ok = _sha1_of(file, git_blob=True) == entry.digest
    else:
        return _verify_without_digest(entry, file, sha256)
    return Verification(file, sha256, ok, f"{kind} {entry.digest}")


def _verify_without_digest(entry: WeightFile, file: Path, sha256: str) -> Verification:
    """Check a file with no published digest: manifest keys and shapes, then its values."""
    from hvg_eval.weights.state_dict import read_state_dict

    if entry.manifest is None:
        return Verification(file, sha256, False, "no published digest and no manifest")
    try:
        state = read_state_dict(file)
        check_against_manifest(state, entry.manifest, path=file)
    except InputError as error:
        return Verification(file, sha256, False, f"no published digest; {error.message}")
    reason = degenerate_reason(state)
    if reason is not None:
        return Verification(file, sha256, False, f"no published digest; degenerate: {reason}")
    return Verification(
        file,
        sha256,
        True,
        f"no published digest; matches the '{entry.manifest}' manifest, values not degenerate",
    )


def degenerate_reason(state: dict[str, object]) -> str | None:
    """Why a state dict cannot be trained weights, or ``None``.

    Refused: non-finite values anywhere; a weight matrix or kernel (2 or more dimensions) whose
    values are all equal (zeros included); a file whose floating values are all equal. One-
    dimensional tensors alone may be constant (a bias or batch-norm shift can be).
    """
    import torch

    floats = [
        (name, value)
        for name, value in state.items()
        if isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel() > 0
    ]
    if not floats:
        return "no floating-point tensors"
    for name, value in floats:
        if not bool(torch.isfinite(value).all()):
            return f"{name} holds NaN or infinite values"
    for name, value in floats:
        if value.ndim >= 2 and value.numel() > 1 and bool((value == value.flatten()[0]).all()):
            return f"{name} {list(value.shape)} is constant ({float(value.flatten()[0])})"
    first = float(floats[0][1].flatten()[0])
    if all(bool((value == first).all()) for _, value in floats):
        return f"every value in the file is {first}"
    return None


def _describe(entry: WeightFile, metric: str, places: list[tuple[str, Path]]) -> str:
    searched = "; ".join(f"{directory} ({label})" for label, directory in places)
    digest = (
        f"{entry.digest_kind} {entry.digest}"
        if entry.digest_kind != "none"
        else "no published digest; checked against the state-dict manifest"
    )
    return (
        f"{metric} needs {entry.description}: '{entry.filename}' ({entry.approx_size}; "
        f"expected {digest}). Searched: {searched}. Get it from {' or '.join(entry.sources)} "
        f"(licence: {entry.licence}), put it in one of those directories (or pass "
        f"--weights-dir DIR / set {ENV_WEIGHTS}), then run `hvg-eval weights verify`. "
        "hvg-eval never downloads weights."
    )


def resolve_weight_file(
    key: str,
    metric: str,
    weights_dir: str | os.PathLike[str] | None = None,
    *,
    allow_unverified: bool = False,
) -> Verification:
    """Find and verify the file for ``key``, or explain exactly what is missing.

    Args:
        key: Registry key.
        metric: What needs it, for the message (e.g. ``"FVD (protocol disco)"``).
        weights_dir: Highest-priority directory.
        allow_unverified: Accept a digest mismatch (recorded as unverified in results).

    Raises:
        MissingResourceError: No file, or a digest mismatch without ``allow_unverified``
            (exit code 2 on the command line).
    """
    entry = WEIGHT_FILES[key]
    path, places = find_weight_file(key, weights_dir)
    if path is None:
        raise MissingResourceError(_describe(entry, metric, places))
    result = verify_file(key, path)
    if not result.ok and not allow_unverified:
        raise MissingResourceError(
            f"{path} does not match the published checksum ({result.checked}; its SHA-256 is "
            f"{result.sha256}). It is not the reference file, so numbers would not be "
            "comparable. "
            + _describe(entry, metric, places)
            + " Pass --allow-unverified-weights to use it anyway (recorded as unverified)."
        )
    return result


def manifest_path(name: str) -> Path:
    """Path of a committed key/shape manifest."""
    return Path(__file__).with_name("manifests") / f"{name}.json"


def load_manifest(name: str) -> dict[str, list[int]]:
    """Sorted ``{key: shape}`` of a committed manifest."""
    data = json.loads(manifest_path(name).read_text())
    return {key: list(shape) for key, shape in data["tensors"].items()}


def check_against_manifest(
    state_dict: dict[str, object], name: str, *, path: str | os.PathLike[str]
) -> None:
    """Refuse a loadable-but-wrong file: keys and shapes must equal the manifest.

    ``num_batches_tracked`` buffers may be absent (older torch did not save them).

    Raises:
        InputError: Naming the file and the first missing, unexpected or mis-shaped key.
    """
    expected = load_manifest(name)
    shapes = {key: list(getattr(value, "shape", ())) for key, value in state_dict.items()}
    missing = [
        key for key in expected if key not in shapes and not key.endswith("num_batches_tracked")
    ]
    unexpected = [key for key in shapes if key not in expected]
    wrong = [key for key in expected if key in shapes and shapes[key] != expected[key]]
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f"{len(missing)} missing (first: {missing[0]})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected (first: {unexpected[0]})")
        if wrong:
            details.append(
                f"{len(wrong)} with the wrong shape (first: {wrong[0]} is {shapes[wrong[0]]}, "
                f"expected {expected[wrong[0]]})"
            )
        raise InputError(
            f"state dict does not match the '{name}' manifest: " + ", ".join(details),
            path=path,
        )
