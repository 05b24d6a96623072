// Envoy's network (L4) filter API (envoy/network/filter.h, envoy/network/connection.h), as far as
// the Wasm network filter uses it: the contract between a connection's filter manager (the
// emulator's connection, host/emulator/connection.ts) and the Wasm network context
// (network-context.ts). Names and values mirror Envoy's.
import type { BodyBuffer } from "../http/body-buffer.js";
import type { StreamInfo } from "../http/stream-info.js";

/** Network::FilterStatus (proxy-wasm-abi.md §3.6: TCP FilterStatus Continue=0, StopIteration=1). */
export enum NetworkFilterStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Network::ConnectionEvent. */
export enum ConnectionEvent {
  RemoteClose = 0,
  LocalClose = 1,
  Connected = 2,
}

/** Network::ConnectionCloseType (the Wasm filter only ever uses FlushWrite). */
export enum ConnectionCloseType {
  FlushWrite = 0,
  NoFlush = 1,
}

/** Network::ConnectionCallbacks. */
export interface ConnectionCallbacks {
  onEvent(event: ConnectionEvent): void;
}

/** The downstream connection as a network filter sees it (Network::Connection). */
export interface NetworkConnection {
  readonly id: bigint;
  /** The connection's StreamInfo (what properties read on a TCP connection). */
  readonly streamInfo: StreamInfo;
  readonly open: boolean;
  addConnectionCallbacks(callbacks: ConnectionCallbacks): void;
  /** Closes the connection; the close event reaches every ConnectionCallbacks synchronously. */
  close(type: ConnectionCloseType, details: string): void;
}

/** Network::ReadFilterCallbacks. */
export interface ReadFilterCallbacks {
  connection(): NetworkConnection;
  /** Resumes the read filter chain after this filter with what is in the read buffer. */
  continueReading(): void;
}

/** Network::WriteFilterCallbacks. */
export interface WriteFilterCallbacks {
  connection(): NetworkConnection;
}

/** Network::ReadFilter. */
export interface NetworkReadFilter {
  initializeReadFilterCallbacks(callbacks: ReadFilterCallbacks): void;
  onNewConnection(): NetworkFilterStatus;
  /** `data` is the connection's read buffer: what a stopped filter leaves there is delivered again. */
  onData(data: BodyBuffer, endStream: boolean): NetworkFilterStatus;
}

/** Network::WriteFilter. */
export interface NetworkWriteFilter {
  initializeWriteFilterCallbacks?(callbacks: WriteFilterCallbacks): void;
  onWrite(data: BodyBuffer, endStream: boolean): NetworkFilterStatus;
}

/** Network::Filter: both directions (FilterManager::addFilter adds it to both chains). */
export type NetworkFilter = NetworkReadFilter &
  NetworkWriteFilter & {
    /** The connection is destroyed (the filter's destructor in Envoy). */
    onDestroy?(): void;
  };
