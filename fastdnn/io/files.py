"""Atomic file writes: a file is either the previous good one or the complete new one.

Guarantees: the new content goes to a temporary file in the same folder, is flushed and
fsync'ed, then renamed over the target, and the folder is fsync'ed; a kill at any moment
leaves the last good file in place. The new file keeps the old one's permissions (or the
umask's for a new file), not the temporary file's private 0600. Used by model files,
checkpoints and sweep results; no third-party import, so writing bytes never loads h5py.
"""
import os
import tempfile


def _file_mode(path):
    """The mode ``path`` should get: its current one, else what the umask gives a new file
    (mkstemp's temporary files are private, 0600, and the rename would keep that)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        pass
    umask = os.umask(0o022)      # read the umask (set it back at once)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(directory):
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def replace_atomically(path, write):
    """Create ``path`` by calling ``write(temporary_path)`` on a temporary file in the same
    folder, then fsync, rename over ``path`` and fsync the folder."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    os.close(fd)
    os.chmod(tmp, _file_mode(path))
    try:
        write(tmp)
        with open(tmp, "rb+") as raw:
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(directory)


def write_bytes_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
    replace_atomically(path, write)
