"""The command line's data: which files a command reads (--data, --train/--test, or the
embedded dataset), the images as stored, and whether to stream them from their file.

Guarantees: images stay as stored (bytes stay bytes, divided by 255 in the engine's tiles);
streaming is chosen when the images would take over half the memory this process may still
take (the least of the system's available memory, the cgroup's limit left and the
address-space limit left), unless --stream/--no-stream says.
"""
import glob
import os


class UsageError(ValueError):
    """An option's value does not fit the data (the command line exits 2 with its usage)."""


# ---- data ---------------------------------------------------------------------------------
def _pick(directory, prefix):
    found = sorted(glob.glob(os.path.join(directory, f"{prefix}*.h5")))
    if len(found) != 1:
        raise FileNotFoundError(f"{directory}: expected one {prefix}*.h5 file, found "
                                f"{[os.path.basename(p) for p in found]}")
    return found[0]


def data_files(args, need_train=True):
    """(train_file, test_file) from --data/--train/--test, else the embedded dataset."""
    if getattr(args, "data", None):
        return (_pick(args.data, "train") if need_train else None), _pick(args.data, "test")
    train, test = getattr(args, "train", None), getattr(args, "test", None)
    if train or test:
        if (need_train and not train) or not test:
            raise UsageError("give both --train FILE and --test FILE (or --data DIR)")
        return train, test
    from ..io.datasets import embedded
    name = getattr(args, "embedded", "digits")
    return embedded(f"train_{name}.h5"), embedded(f"test_{name}.h5")


def available_memory():
    """Bytes this process may still take: the least of the memory the system has available,
    the container's (cgroup v2) limit left and the address-space limit left."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        limits.append(int(info["MemAvailable"].split()[0]) * 1024)
    except (OSError, KeyError, ValueError):
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            limits.append(1 << 62)              # unknown: never stream on our own
    try:
        with open("/sys/fs/cgroup/memory.max") as f, \
                open("/sys/fs/cgroup/memory.current") as g:
            limits.append(int(f.read()) - int(g.read()))
    except (OSError, ValueError):          # no cgroup v2 limit ("max") or not Linux
        pass
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                limits.append(soft - int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE"))
    except (ImportError, OSError):         # not Linux: no address-space figure
        pass
    return max(0, min(limits))


def should_stream(nbytes):
    """Whether data of ``nbytes`` would not fit comfortably: over half the available memory."""
    return nbytes > available_memory() // 2


def images(path, stream=None):
    """io.datasets.load_images' tuple, or image_source's (the images streamed from the
    file) when ``stream``; None: when they would take over half the available memory."""
    from ..io.datasets import image_source, images_bytes, load_images
    if stream is None:
        stream = should_stream(images_bytes(path))
    return (image_source if stream else load_images)(path)
