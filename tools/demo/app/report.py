"""The demo app of bundlefs (tools/demo.sh): a small inventory report. It keeps its data in
SQLite, packs it with zlib through ctypes, and summarises it with numpy when numpy is there.
Its output is the same on every run."""
import sys

from inventory import pack, stats, store


def main():
    db = store.open_store()
    rows = store.items(db)
    print("inventory report")
    print("  %d items in %d warehouses (SQLite %s)" % (len(rows), store.warehouse_count(db),
                                                       store.sqlite_version()))
    for name, qty, price in store.top_items(db, 3):
        print("  top: %-10s %4d x %6.2f" % (name, qty, price))
    blob = store.dump(db)
    packed = pack.compress(blob)
    print("  data: %d bytes, zlib %s packs it to %d (crc32 %08x), round trip %s"
          % (len(blob), pack.version(), len(packed), pack.crc32(blob),
             "ok" if pack.decompress(packed, len(blob)) == blob else "FAILED"))
    print("  " + stats.summary([qty for _, qty, _ in rows], [price for _, _, price in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
