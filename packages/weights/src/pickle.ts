/**
 * A restricted interpreter for Python pickles (protocols 0–5, binary opcodes; the text opcodes of
 * protocol 0 that carry numbers and names).
 *
 * It never executes anything. Python values become plain JavaScript values ({@link PyValue});
 * every `GLOBAL`/`STACK_GLOBAL` is looked up in an allow-list the moment the pickle names it, and
 * an unknown global is refused with an {@link UnsafePickleError} naming it — before any argument
 * for it is even read. Calls (`REDUCE`, `NEWOBJ`) can only reach the JavaScript implementations
 * registered for allowed globals. Memory use is bounded by the input: every length is checked
 * against the bytes that remain before anything is allocated.
 *
 * @module
 */
import { PickleFormatError, UnsafePickleError } from './errors.js';
import { TorchStorage, TorchTensor } from './tensor.js';

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict or `collections.OrderedDict` (insertion order is kept either way). */
export class PyDict extends Map<PyValue, PyValue> {
  /** `'dict'` or `'OrderedDict'`. */
  kind: 'dict' | 'OrderedDict' = 'dict';
  /**
   * Instance attributes set by `BUILD` (a `state_dict()` carries its `_metadata` this way);
   * undefined when there were none.
   */
  attributes?: PyValue;

  /** The value under a string key (the common case), or undefined. */
  getString(key: string): PyValue | undefined {
    return this.get(key);
  }
}

/** A Python set or frozenset (kept as a list of its items). */
export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}

/** A reference to an allowed Python global that appears as a value (e.g. `torch.float32`). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  /** `module.name`. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An object of a class the caller explicitly allowed as opaque ({@link UnpickleOptions.opaqueGlobals}):
 * only its constructor arguments and `BUILD` state are kept, nothing is run.
 */
export class PyObject {
  /** The `BUILD` state (for most classes, the instance `__dict__`), if any. */
  state?: PyValue;
  constructor(
    /** `module.name` of the class. */
    readonly className: string,
    /** The constructor arguments as pickled. */
    readonly args: PyValue[],
  ) {}
}

/** A numpy dtype as pickled (`numpy.dtype('<f8')`), enough to decode numpy scalars. */
export class NumpyDtype {
  /** `<`, `>` or `|` once `BUILD` has run. */
  byteOrder = '<';
  constructor(readonly code: string) {}
}

/** Every value the unpickler can produce. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | PyObject
  | NumpyDtype
  | TorchStorage
  | TorchTensor;

/** What an allowed global does when the pickle calls it (`REDUCE`) or instantiates it (`NEWOBJ`). */
export interface GlobalImplementation {
  /** `REDUCE`: called with the argument tuple's items. Absent: the global cannot be called. */
  call?: (args: PyValue[], where: string) => PyValue;
  /** `NEWOBJ` (`cls.__new__(cls, *args)`); defaults to `call` when absent. */
  newObject?: (args: PyValue[], where: string) => PyValue;
}

/** Options for {@link unpickle}. */
export interface UnpickleOptions {
  /** The allowed globals, keyed `module.name`. */
  globals: ReadonlyMap<string, GlobalImplementation>;
  /** Resolves persistent ids (`PERSID`/`BINPERSID`); absent: persistent ids are an error. */
  persistentLoad?: (pid: PyValue, where: string) => PyValue;
  /**
   * Extra globals (`module.name`) to accept as inert {@link PyObject}s (e.g. `argparse.Namespace`
   * in a training checkpoint). They are recorded, never executed.
   */
  opaqueGlobals?: readonly string[];
  /** Names the pickle in error messages. */
  source?: string;
}

function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.kind;
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyGlobal) return `global ${v.qualifiedName}`;
  if (v instanceof PyObject) return `object ${v.className}`;
  if (v instanceof TorchTensor) return 'tensor';
  if (v instanceof TorchStorage) return 'storage';
  if (v instanceof PySet) return 'set';
  if (v instanceof NumpyDtype) return 'numpy dtype';
  return typeof v;
}

/** Human-readable description of a value's type, for error messages. */
export function pyTypeName(v: PyValue): string {
  return typeName(v);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

class Unpickler {
  private pos = 0;
  private readonly stack: PyValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly opaque: Set<string>;
  private readonly where: string;
  private opStart = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpickleOptions,
  ) {
    this.opaque = new Set(options.opaqueGlobals ?? []);
    this.where = options.source ?? 'pickle';
  }

  private fail(message: string): never {
    throw new PickleFormatError(`${this.where}: ${message} (at byte ${this.opStart})`);
  }

  private take(n: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`${what}: invalid length ${n}`);
    if (this.pos + n > this.bytes.length) {
      this.fail(`${what} needs ${n} bytes but only ${this.bytes.length - this.pos} remain (truncated pickle)`);
    }
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    return this.take(1, 'a 1-byte argument')[0];
  }

  private u16(): number {
    const b = this.take(2, 'a 2-byte argument');
    return b[0] | (b[1] << 8);
  }

  private u32(): number {
    const b = this.take(4, 'a 4-byte argument');
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  private i32(): number {
    return this.u32() | 0;
  }

  private u64(what: string): number {
    const lo = this.u32();
    const hi = this.u32();
    const v = hi * 4294967296 + lo;
    if (!Number.isSafeInteger(v)) this.fail(`${what}: length ${v} is too large`);
    return v;
  }

  private line(what: string): string {
    // Text opcodes end with "\n"; names and numbers are ASCII.
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`${what}: missing end of line (truncated pickle)`);
    const s = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private text(bytes: Uint8Array, what: string): string {
    try {
      return this.utf8.decode(bytes);
    } catch {
      this.fail(`${what} is not valid UTF-8`);
    }
  }

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  /** Values below the innermost MARK belong to an outer frame (as in Python's metastack). */
  private floor(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  private pop(what: string): PyValue {
    if (this.stack.length <= this.floor()) this.fail(`${what} needs a value but the stack is empty`);
    return this.stack.pop() as PyValue;
  }

  private top(what: string): PyValue {
    if (this.stack.length <= this.floor()) this.fail(`${what} needs a value but the stack is empty`);
    return this.stack[this.stack.length - 1];
  }

  private popMark(what: string): PyValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail(`${what} needs a MARK but there is none`);
    return this.stack.splice(m);
  }

  private memoPut(index: number): void {
    this.memo.set(index, this.top('PUT'));
  }

  private memoGet(index: number): void {
    if (!this.memo.has(index)) this.fail(`memo index ${index} was never stored`);
    this.push(this.memo.get(index) as PyValue);
  }

  private global(module: string, name: string): PyValue {
    const qualified = `${module}.${name}`;
    if (this.options.globals.has(qualified) || this.opaque.has(qualified)) return new PyGlobal(module, name);
    throw new UnsafePickleError(
      qualified,
      `${this.where}: refusing to load global "${qualified}" (byte ${this.opStart}): it is not on the allow-list of ` +
        `tensor/storage/container types, and this reader never imports or runs code from a file. ` +
        `If you trust the file and the global is plain data, pass it in opaqueGlobals.`,
    );
  }

  private callable(v: PyValue, op: string): PyGlobal {
    if (!(v instanceof PyGlobal)) this.fail(`${op} expects an allowed global to call, found ${typeName(v)}`);
    return v;
  }

  private reduce(fn: PyValue, args: PyValue, op: 'REDUCE' | 'NEWOBJ'): PyValue {
    const g = this.callable(fn, op);
    if (!(args instanceof PyTuple)) this.fail(`${op} of ${g.qualifiedName} expects an argument tuple, found ${typeName(args)}`);
    const impl = this.options.globals.get(g.qualifiedName);
    const where = `${this.where}: ${g.qualifiedName} (byte ${this.opStart})`;
    if (impl) {
      const f = op === 'NEWOBJ' ? (impl.newObject ?? impl.call) : impl.call;
      if (!f) this.fail(`${g.qualifiedName} is allowed as a value but cannot be called`);
      return f(args.items, where);
    }
    // Only opaque globals remain (others were refused by GLOBAL): record, never run.
    return new PyObject(g.qualifiedName, args.items);
  }

  private build(obj: PyValue, state: PyValue): void {
    if (obj instanceof PyObject) {
      obj.state = state;
    } else if (obj instanceof PyDict) {
      // An OrderedDict with instance attributes (state_dict()._metadata) pickles them as BUILD.
      obj.attributes = state;
    } else if (obj instanceof NumpyDtype) {
      if (!(state instanceof PyTuple) || state.items.length < 2 || typeof state.items[1] !== 'string') {
        this.fail(`BUILD of a numpy dtype expects a state tuple (version, byteorder, …), found ${typeName(state)}`);
      }
      obj.byteOrder = state.items[1] as string;
    } else {
      this.fail(`BUILD (setting state) is not supported on ${typeName(obj)}`);
    }
  }

  private setItems(dict: PyValue, items: PyValue[], op: string): void {
    if (!(dict instanceof PyDict)) this.fail(`${op} expects a dict below its items, found ${typeName(dict)}`);
    if (items.length % 2 !== 0) this.fail(`${op} expects key/value pairs, found an odd number of items (${items.length})`);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  }

  private int(bytes: Uint8Array): number | bigint {
    // Little-endian two's complement of any length (LONG1/LONG4).
    if (bytes.length === 0) return 0;
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private textInt(s: string, op: string): number | bigint {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[-+]?\d+$/.test(t)) this.fail(`${op} expects a decimal integer, found ${JSON.stringify(s.slice(0, 40))}`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private unicodeEscape(s: string): string {
    // raw-unicode-escape: only \uXXXX and \UXXXXXXXX are escapes; everything else is latin-1.
    return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) => {
      const cp = parseInt(a ?? b ?? '0', 16);
      if (cp > 0x10ffff) this.fail(`UNICODE escape U+${cp.toString(16)} is out of range`);
      return String.fromCodePoint(cp);
    });
  }

  run(): PyValue {
    const b = this.bytes;
    while (this.pos < b.length) {
      this.opStart = this.pos;
      const op = b[this.pos++];
      switch (op) {
        case 0x80: {
          const proto = this.u8();
          if (proto > 5) this.fail(`unsupported pickle protocol ${proto} (expected 0–5)`);
          break;
        }
        case 0x95: // FRAME: a length hint only
          this.u64('FRAME');
          break;
        case 0x2e: {
          // STOP
          const v = this.pop('STOP');
          return v;
        }
        case 0x28:
          this.marks.push(this.stack.length);
          break;
        case 0x30:
          // POP right after MARK discards the mark itself (Python's behaviour).
          if (this.marks.length > 0 && this.stack.length === this.floor()) this.marks.pop();
          else this.pop('POP');
          break;
        case 0x31:
          this.popMark('POP_MARK');
          break;
        case 0x32:
          this.push(this.top('DUP'));
          break;
        case 0x4e:
          this.push(null);
          break;
        case 0x88:
          this.push(true);
          break;
        case 0x89:
          this.push(false);
          break;
        case 0x4a:
          this.push(this.i32());
          break;
        case 0x4b:
          this.push(this.u8());
          break;
        case 0x4d:
          this.push(this.u16());
          break;
        case 0x8a:
          this.push(this.int(this.take(this.u8(), 'LONG1')));
          break;
        case 0x8b: {
          const n = this.i32();
          if (n < 0) this.fail(`LONG4 with negative length ${n}`);
          this.push(this.int(this.take(n, 'LONG4')));
          break;
        }
        case 0x49: {
          const s = this.line('INT');
          if (s === '01') this.push(true);
          else if (s === '00') this.push(false);
          else this.push(this.textInt(s, 'INT'));
          break;
        }
        case 0x4c:
          this.push(this.textInt(this.line('LONG'), 'LONG'));
          break;
        case 0x47: {
          const d = this.take(8, 'BINFLOAT');
          this.push(new DataView(d.buffer, d.byteOffset, 8).getFloat64(0, false));
          break;
        }
        case 0x46: {
          const s = this.line('FLOAT').trim();
          const v = Number(s === 'inf' ? 'Infinity' : s === '-inf' ? '-Infinity' : s === 'nan' ? 'NaN' : s);
          if (Number.isNaN(v) && s !== 'nan') this.fail(`FLOAT expects a number, found ${JSON.stringify(s.slice(0, 40))}`);
          this.push(v);
          break;
        }
        case 0x58:
          this.push(this.text(this.take(this.u32(), 'BINUNICODE'), 'BINUNICODE'));
          break;
        case 0x8c:
          this.push(this.text(this.take(this.u8(), 'SHORT_BINUNICODE'), 'SHORT_BINUNICODE'));
          break;
        case 0x8d:
          this.push(this.text(this.take(this.u64('BINUNICODE8'), 'BINUNICODE8'), 'BINUNICODE8'));
          break;
        case 0x56:
          this.push(this.unicodeEscape(this.line('UNICODE')));
          break;
        case 0x54: {
          // BINSTRING / SHORT_BINSTRING: Python 2 str; torch reads them as UTF-8 text.
          const n = this.i32();
          if (n < 0) this.fail(`BINSTRING with negative length ${n}`);
          const raw = this.take(n, 'BINSTRING');
          this.push(this.textOrLatin1(raw));
          break;
        }
        case 0x55:
          this.push(this.textOrLatin1(this.take(this.u8(), 'SHORT_BINSTRING')));
          break;
        case 0x42:
          this.push(this.take(this.u32(), 'BINBYTES').slice());
          break;
        case 0x43:
          this.push(this.take(this.u8(), 'SHORT_BINBYTES').slice());
          break;
        case 0x8e:
          this.push(this.take(this.u64('BINBYTES8'), 'BINBYTES8').slice());
          break;
        case 0x96:
          this.push(this.take(this.u64('BYTEARRAY8'), 'BYTEARRAY8').slice());
          break;
        case 0x29:
          this.push(new PyTuple([]));
          break;
        case 0x74:
          this.push(new PyTuple(this.popMark('TUPLE')));
          break;
        case 0x85: {
          const a = this.pop('TUPLE1');
          this.push(new PyTuple([a]));
          break;
        }
        case 0x86: {
          const y = this.pop('TUPLE2');
          const x = this.pop('TUPLE2');
          this.push(new PyTuple([x, y]));
          break;
        }
        case 0x87: {
          const z = this.pop('TUPLE3');
          const y = this.pop('TUPLE3');
          const x = this.pop('TUPLE3');
          this.push(new PyTuple([x, y, z]));
          break;
        }
        case 0x5d:
          this.push([]);
          break;
        case 0x6c:
          this.push(this.popMark('LIST'));
          break;
        case 0x61: {
          const v = this.pop('APPEND');
          const list = this.top('APPEND');
          if (!Array.isArray(list)) this.fail(`APPEND expects a list, found ${typeName(list)}`);
          list.push(v);
          break;
        }
        case 0x65: {
          const items = this.popMark('APPENDS');
          const list = this.top('APPENDS');
          if (!Array.isArray(list)) this.fail(`APPENDS expects a list, found ${typeName(list)}`);
          for (const v of items) list.push(v);
          break;
        }
        case 0x7d:
          this.push(new PyDict());
          break;
        case 0x64: {
          const items = this.popMark('DICT');
          const d = new PyDict();
          this.setItems(d, items, 'DICT');
          this.push(d);
          break;
        }
        case 0x73: {
          const v = this.pop('SETITEM');
          const k = this.pop('SETITEM');
          this.setItems(this.top('SETITEM'), [k, v], 'SETITEM');
          break;
        }
        case 0x75: {
          const items = this.popMark('SETITEMS');
          this.setItems(this.top('SETITEMS'), items, 'SETITEMS');
          break;
        }
        case 0x8f:
          this.push(new PySet([], false));
          break;
        case 0x90: {
          const items = this.popMark('ADDITEMS');
          const s = this.top('ADDITEMS');
          if (!(s instanceof PySet) || s.frozen) this.fail(`ADDITEMS expects a set, found ${typeName(s)}`);
          s.items.push(...items);
          break;
        }
        case 0x91:
          this.push(new PySet(this.popMark('FROZENSET'), true));
          break;
        case 0x71:
          this.memoPut(this.u8());
          break;
        case 0x72:
          this.memoPut(this.u32());
          break;
        case 0x70:
          this.memoPut(Number(this.textInt(this.line('PUT'), 'PUT')));
          break;
        case 0x94:
          this.memoPut(this.memo.size);
          break;
        case 0x68:
          this.memoGet(this.u8());
          break;
        case 0x6a:
          this.memoGet(this.u32());
          break;
        case 0x67:
          this.memoGet(Number(this.textInt(this.line('GET'), 'GET')));
          break;
        case 0x63: {
          const module = this.line('GLOBAL module');
          const name = this.line('GLOBAL name');
          this.push(this.global(module, name));
          break;
        }
        case 0x93: {
          const name = this.pop('STACK_GLOBAL');
          const module = this.pop('STACK_GLOBAL');
          if (typeof module !== 'string' || typeof name !== 'string') {
            this.fail(`STACK_GLOBAL expects two strings, found ${typeName(module)} and ${typeName(name)}`);
          }
          this.push(this.global(module, name));
          break;
        }
        case 0x52: {
          const args = this.pop('REDUCE');
          const fn = this.pop('REDUCE');
          this.push(this.reduce(fn, args, 'REDUCE'));
          break;
        }
        case 0x81: {
          const args = this.pop('NEWOBJ');
          const cls = this.pop('NEWOBJ');
          this.push(this.reduce(cls, args, 'NEWOBJ'));
          break;
        }
        case 0x92: {
          const kwargs = this.pop('NEWOBJ_EX');
          const args = this.pop('NEWOBJ_EX');
          const cls = this.pop('NEWOBJ_EX');
          if (!(kwargs instanceof PyDict) || kwargs.size > 0) this.fail('NEWOBJ_EX with keyword arguments is not supported');
          this.push(this.reduce(cls, args, 'NEWOBJ'));
          break;
        }
        case 0x62: {
          const state = this.pop('BUILD');
          this.build(this.top('BUILD'), state);
          break;
        }
        case 0x51: {
          const pid = this.pop('BINPERSID');
          this.push(this.persistent(pid));
          break;
        }
        case 0x50:
          this.push(this.persistent(this.line('PERSID')));
          break;
        case 0x69: {
          // INST names a class in its argument: apply the same allow-list as GLOBAL.
          const module = this.line('INST module');
          const name = this.line('INST name');
          const cls = this.global(module, name);
          this.push(this.reduce(cls, new PyTuple(this.popMark('INST')), 'REDUCE'));
          break;
        }
        case 0x6f: {
          const items = this.popMark('OBJ');
          if (items.length === 0) this.fail('OBJ without a class');
          this.push(this.reduce(items[0], new PyTuple(items.slice(1)), 'REDUCE'));
          break;
        }
        default: {
          const name = OPCODE_NAMES[op];
          if (name) this.fail(`opcode ${name} (0x${op.toString(16)}) is not supported by this reader`);
          this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')} (corrupt or not a pickle)`);
        }
      }
    }
    this.opStart = this.pos;
    this.fail('the pickle ended without a STOP opcode (truncated)');
  }

  private textOrLatin1(raw: Uint8Array): string {
    try {
      return this.utf8.decode(raw);
    } catch {
      return latin1(raw);
    }
  }

  private persistent(pid: PyValue): PyValue {
    if (!this.options.persistentLoad) this.fail('persistent id found, but no persistent loader is configured');
    return this.options.persistentLoad(pid, `${this.where} (byte ${this.opStart})`);
  }
}

/**
 * Interpret a pickle without executing anything.
 *
 * @throws UnsafePickleError for a global outside the allow-list; PickleFormatError for malformed
 *   or unsupported input. Errors from `globals` implementations and `persistentLoad` propagate.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PyValue {
  return new Unpickler(bytes, options).run();
}

/** A {@link PyTuple}'s items or a list, else an error naming `what`. */
export function sequenceItems(v: PyValue, what: string, where: string): PyValue[] {
  if (v instanceof PyTuple) return v.items;
  if (Array.isArray(v)) return v;
  throw new PickleFormatError(`${where}: expected ${what} to be a tuple or list, found ${typeName(v)}`);
}

function dictFromPairs(pairs: PyValue, where: string, kind: 'dict' | 'OrderedDict'): PyDict {
  const d = new PyDict();
  d.kind = kind;
  for (const pair of sequenceItems(pairs, 'the items', where)) {
    const kv = sequenceItems(pair, 'a (key, value) pair', where);
    if (kv.length !== 2) throw new PickleFormatError(`${where}: expected a (key, value) pair, found ${kv.length} items`);
    d.set(kv[0], kv[1]);
  }
  return d;
}

/**
 * The plain-data globals every reader may allow: `collections.OrderedDict`, sets, `bytearray` and
 * `_codecs.encode` (protocol 2's way of pickling Python 3 `bytes`).
 */
export function standardGlobals(): Map<string, GlobalImplementation> {
  const g = new Map<string, GlobalImplementation>();
  g.set('collections.OrderedDict', {
    call: (args, where) => {
      if (args.length === 0) {
        const d = new PyDict();
        d.kind = 'OrderedDict';
        return d;
      }
      if (args.length === 1) return dictFromPairs(args[0], where, 'OrderedDict');
      throw new PickleFormatError(`${where}: expected at most one argument, found ${args.length}`);
    },
  });
  const set = (frozen: boolean): GlobalImplementation => ({
    call: (args, where) => new PySet(args.length === 0 ? [] : [...sequenceItems(args[0], 'the set items', where)], frozen),
  });
  for (const m of ['builtins', '__builtin__']) {
    g.set(`${m}.set`, set(false));
    g.set(`${m}.frozenset`, set(true));
    g.set(`${m}.bytearray`, {
      call: (args, where) => {
        if (args.length === 0) return new Uint8Array(0);
        if (args[0] instanceof Uint8Array) return args[0].slice();
        throw new PickleFormatError(`${where}: expected bytes, found ${typeName(args[0])}`);
      },
    });
  }
  g.set('_codecs.encode', {
    call: (args, where) => {
      const [text, encoding] = args;
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
        throw new PickleFormatError(`${where}: expected (str, 'latin1'), found (${typeName(text)}, ${JSON.stringify(encoding)})`);
      }
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 255) throw new PickleFormatError(`${where}: character U+${c.toString(16)} cannot be latin-1 encoded`);
        out[i] = c;
      }
      return out;
    },
  });
  return g;
}
