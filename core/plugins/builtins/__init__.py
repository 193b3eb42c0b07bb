"""The plugins that ship with Poolside, each showing a different side of threads
versus processes:

    sha256     hashing.py    I/O plus C code that releases the GIL
    thumbnail  images.py     Pillow decoding and resizing: CPU in C
    gzip       compress.py   zlib in C, streaming, writes files
    wordcount  text.py       pure Python over text: CPU under the GIL
    primes     burn.py       a pure-Python CPU burn: the GIL made visible
    latency    latency.py    a wait per item: simulated I/O
    fetch      fetch.py      real network downloads

Each module imports only what its plugin needs, and heavy libraries (Pillow)
inside the function, so a worker that runs ``latency`` never loads Pillow.
"""

from __future__ import annotations

#: (module, function) of every built-in, in the order they are listed.
BUILTINS: tuple[tuple[str, str], ...] = (
    ("poolside.plugins.builtins.hashing", "sha256"),
    ("poolside.plugins.builtins.images", "thumbnail"),
    ("poolside.plugins.builtins.compress", "gzip_file"),
    ("poolside.plugins.builtins.text", "wordcount"),
    ("poolside.plugins.builtins.burn", "primes"),
    ("poolside.plugins.builtins.latency", "latency"),
    ("poolside.plugins.builtins.fetch", "fetch"),
)
