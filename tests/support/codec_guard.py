"""`hearth relay` with every aiortc codec made to fail: `python -m tests.support.codec_guard LOG relay --port N`.

Each attempt to make an encoder or decoder, or a codec context in aiortc's codec modules, is written to LOG and
raises. The guard checks itself at start (one "self-check" line), so a test can tell a silent guard from a relay
that never asked for a codec.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import aiortc.codecs
import aiortc.codecs.h264
import aiortc.codecs.opus
import aiortc.codecs.vpx
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender

CODEC_CLASSES = [
    aiortc.codecs.vpx.Vp8Decoder,
    aiortc.codecs.vpx.Vp8Encoder,
    aiortc.codecs.h264.H264Decoder,
    aiortc.codecs.h264.H264Encoder,
    aiortc.codecs.opus.OpusDecoder,
    aiortc.codecs.opus.OpusEncoder,
]


class CodecUsed(RuntimeError):
    pass


def install(log: Path) -> None:
    def refuse(what: str) -> None:
        with log.open("a") as out:
            out.write(what + "\n")
        raise CodecUsed(what)

    def factory(name: str) -> Any:
        def refused(*args: object, **kwargs: object) -> None:
            refuse(name)

        return refused

    for module in (aiortc.codecs, aiortc.rtcrtpreceiver, aiortc.rtcrtpsender):
        for name in ("get_decoder", "get_encoder"):
            if hasattr(module, name):
                setattr(module, name, factory(f"{module.__name__}.{name}"))
    for cls in CODEC_CLASSES:
        cls.__init__ = factory(f"{cls.__name__}()")  # type: ignore[method-assign]

    class NoContexts:
        def __getattr__(self, name: str) -> Any:
            return factory(f"CodecContext.{name}")

    class NoAv:
        CodecContext = NoContexts()

        def __getattr__(self, name: str) -> Any:
            import av

            return getattr(av, name)

    for module in (aiortc.codecs.vpx, aiortc.codecs.h264, aiortc.codecs.opus):
        if hasattr(module, "CodecContext"):
            module.CodecContext = NoContexts()  # type: ignore[attr-defined]
        if hasattr(module, "av"):
            module.av = NoAv()  # type: ignore[attr-defined]

    try:
        aiortc.codecs.vpx.Vp8Decoder()
    except CodecUsed:
        log.write_text("self-check\n")  # replaces the line the refusal wrote
    else:
        raise SystemExit("the codec guard does not hold")


if __name__ == "__main__":
    install(Path(sys.argv[1]))
    from api.cli import app

    app(sys.argv[2:])
