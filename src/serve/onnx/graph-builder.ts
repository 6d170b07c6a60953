// Builds an ONNX graph node by node with unique names; weights become initializers.
import type { AttributeValue, OnnxGraph, OnnxInitializer, OnnxNode, OnnxValue } from './onnx-model.ts';

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxInitializer[] = [];
  private readonly names = new Set<string>();

  /** `reserved`: names kept for the graph's outputs, so no inner value can take them. */
  constructor(
    private readonly name: string,
    private readonly reserved: ReadonlySet<string> = new Set(),
  ) {}

  private unique(base: string): string {
    let n = base;
    for (let k = 1; this.names.has(n) || this.reserved.has(n); k++) n = `${base}_${k}`;
    this.names.add(n);
    return n;
  }

  /** A constant tensor. */
  constant(base: string, data: Float32Array, dims: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** One node with one output; returns the output's name. */
  op(op: string, inputs: string[], attributes?: Record<string, AttributeValue>, base = op.toLowerCase()): string {
    const out = this.unique(base);
    this.nodes.push({ op, inputs, outputs: [out], name: `${out}_node`, ...(attributes ? { attributes } : {}) });
    return out;
  }

  /** Renames a value to a fixed graph-output name (an Identity node). */
  output(value: string, name: string): string {
    this.names.add(name);
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], name: `${name}_node` });
    return name;
  }

  graph(inputs: OnnxValue[], outputs: OnnxValue[]): OnnxGraph {
    return { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs, outputs };
  }
}
