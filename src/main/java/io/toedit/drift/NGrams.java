package io.toedit.drift;

/**
 * N-gram keys and bucket hashing.
 *
 * <p>An n-gram of order n (1..3) is packed exactly into a long: token {@code i} of the n-gram
 * occupies bits {@code [21 i, 21 i + 21)}. The order is not part of the key: every order has its
 * own sketches. Packing is exact, so heavy hitters decode back into token ids with no side table;
 * the price is that token ids must be below 2^21 (2,097,152), more than any current vocabulary.
 */
final class NGrams {

  static final int MAX_ORDER = 3;
  static final int ID_BITS = 21;
  static final int MAX_TOKEN_ID = (1 << ID_BITS) - 1;
  private static final long ID_MASK = MAX_TOKEN_ID;
  private static final long[] SEEDS = {0x9E3779B97F4A7C15L, 0xC2B2AE3D27D4EB4FL, 0x165667B19E3779F9L};

  private NGrams() {
  }

  static long key(int[] ids, int start, int n) {
    long k = 0;
    for (int i = 0; i < n; i++) {
      k |= ((long) ids[start + i]) << (ID_BITS * i);
    }
    return k;
  }

  static int[] decode(long key, int n) {
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = (int) ((key >>> (ID_BITS * i)) & ID_MASK);
    }
    return ids;
  }

  /** Bucket of a key of order {@code n} in {@code [0, buckets)}; each order uses its own seed. */
  static int bucket(long key, int n, int buckets) {
    return (int) Long.remainderUnsigned(mix(key ^ SEEDS[n - 1]), buckets);
  }

  /** MurmurHash3's 64-bit finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    return z ^ (z >>> 33);
  }
}
