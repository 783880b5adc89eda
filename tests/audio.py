"""Real audio for tests, made with the standard library."""

from __future__ import annotations

import io
import math
import wave


def wav_bytes(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV with a 440 Hz tone."""
    frames = int(seconds * rate)
    samples = b"".join(
        int(8000 * math.sin(2 * math.pi * 440 * i / rate)).to_bytes(2, "little", signed=True)
        for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return buffer.getvalue()


def _tone(seconds: float, rate: int) -> list[int]:
    return [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))]


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def flac_bytes(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A mono 16-bit FLAC with a 440 Hz tone: STREAMINFO, then fixed-size frames of
    VERBATIM subframes with their CRC-8 and CRC-16 (uncompressed, but a valid stream)."""
    samples, block = _tone(seconds, rate), 4096
    streaminfo = (
        block.to_bytes(2, "big")
        + block.to_bytes(2, "big")
        + bytes(6)  # minimum and maximum frame size: unknown
        + ((rate << 44) | (0 << 41) | (15 << 36) | len(samples)).to_bytes(8, "big")
        + bytes(16)  # MD5 of the samples: not computed
    )
    out = bytearray(b"fLaC" + bytes([0x80]) + len(streaminfo).to_bytes(3, "big") + streaminfo)
    rate_code = {8000: 0b0100, 16000: 0b0101, 48000: 0b1010}[rate]
    for number, offset in enumerate(range(0, len(samples), block)):
        chunk = samples[offset : offset + block]
        assert number < 128  # the frame number is one UTF-8 byte
        header = bytes([0xFF, 0xF8, (0b0111 << 4) | rate_code, 0b1000, number])
        header += (len(chunk) - 1).to_bytes(2, "big")
        header += bytes([_crc8(header)])
        frame = header + b"\x02" + b"".join(s.to_bytes(2, "big", signed=True) for s in chunk)
        out += frame + _crc16(frame).to_bytes(2, "big")
    return bytes(out)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], *, flags: int, granule: int, sequence: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = (
        b"OggS\x00"
        + bytes([flags])
        + granule.to_bytes(8, "little", signed=True)
        + (0x43484F52).to_bytes(4, "little")  # stream serial number
        + sequence.to_bytes(4, "little")
        + bytes(4)  # CRC, filled in below
        + bytes([len(lacing)])
        + lacing
    )
    page = bytearray(header + b"".join(packets))
    page[22:26] = _ogg_crc(bytes(page)).to_bytes(4, "little")
    return bytes(page)


def ogg_opus_bytes(seconds: float = 2.0) -> bytes:
    """A mono Ogg Opus stream of ``seconds``: OpusHead, OpusTags, then 20 ms packets that
    each hold one empty CELT frame (TOC byte 0xF8; decoders play them as silence)."""
    pre_skip, per_packet = 312, 960  # samples at 48 kHz
    count = round(seconds * 48000 / per_packet)
    head = b"OpusHead" + bytes([1, 1]) + pre_skip.to_bytes(2, "little")
    head += (48000).to_bytes(4, "little") + bytes(2) + bytes([0])
    vendor = b"chorus tests"
    tags = b"OpusTags" + len(vendor).to_bytes(4, "little") + vendor + bytes(4)
    return (
        _ogg_page([head], flags=0x02, granule=0, sequence=0)
        + _ogg_page([tags], flags=0x00, granule=0, sequence=1)
        + _ogg_page([b"\xf8"] * count, flags=0x04, granule=count * per_packet, sequence=2)
    )
