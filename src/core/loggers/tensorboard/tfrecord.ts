import { crc32c } from '@aws-crypto/crc32c';

/** TFRecord's masked CRC32C: rotate right by 15 bits and add a constant (all mod 2^32). */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/**
 * One TFRecord: uint64 little-endian length, masked CRC32C of those 8 bytes, the data, masked CRC32C of the data.
 * TensorBoard's event files are a sequence of these, each holding one serialized `Event`.
 */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Splits a TFRecord file into its records, checking both CRCs of each; throws on a bad or truncated record. */
export function readRecords(file: Uint8Array): Buffer[] {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const records: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 12 > buf.length) throw new Error(`truncated record header at byte ${at}`);
    const len = buf.readBigUInt64LE(at);
    if (buf.readUInt32LE(at + 8) !== maskedCrc32c(buf.subarray(at, at + 8))) throw new Error(`bad length CRC at byte ${at}`);
    const n = Number(len);
    if (at + 12 + n + 4 > buf.length) throw new Error(`truncated record at byte ${at}`);
    const data = buf.subarray(at + 12, at + 12 + n);
    if (buf.readUInt32LE(at + 12 + n) !== maskedCrc32c(data)) throw new Error(`bad data CRC at byte ${at}`);
    records.push(data);
    at += 12 + n + 4;
  }
  return records;
}
