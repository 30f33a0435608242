"""The inventory, in an in-memory SQLite database filled with made-up but fixed data."""
import sqlite3

NAMES = ("anchor", "bolt", "cable", "drill", "epoxy", "flange", "gasket", "hinge", "insulator",
         "jack", "keel", "lever", "magnet", "nozzle", "o-ring", "piston")


def open_store():
    db = sqlite3.connect(":memory:")
    db.execute("create table item (name text, warehouse integer, qty integer, price real)")
    db.executemany("insert into item values (?, ?, ?, ?)",
                   [(n, i % 4, (i * 37) % 101 + 5, round(1.5 + (i * 7.3) % 40, 2))
                    for i, n in enumerate(NAMES)])
    return db


def sqlite_version():
    return sqlite3.sqlite_version


def items(db):
    return db.execute("select name, qty, price from item order by name").fetchall()


def warehouse_count(db):
    return db.execute("select count(distinct warehouse) from item").fetchone()[0]


def top_items(db, n):
    return db.execute("select name, qty, price from item order by qty * price desc limit ?",
                      (n,)).fetchall()


def dump(db):
    return "\n".join(db.iterdump()).encode()
