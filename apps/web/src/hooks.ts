import type { Observable, RealtimeClient, RoomState, RoomStore } from "@raptscallions/client";
import { useEffect, useState } from "preact/hooks";

/** The current value of an observable; re-renders on every change. */
export function useObservable<T>(source: Observable<T>): T {
  const [value, setValue] = useState(source.get());
  useEffect(() => {
    setValue(source.get());
    return source.subscribe(setValue);
  }, [source]);
  return value;
}

/** Joins a room for as long as the component is mounted and returns its state. */
export function useRoom(client: RealtimeClient, room: string | null): RoomState | null {
  const [store, setStore] = useState<RoomStore | null>(null);
  const [state, setState] = useState<RoomState | null>(null);
  useEffect(() => {
    if (!room) return;
    const s = client.room(room);
    setStore(s);
    setState(s.get());
    const off = s.subscribe(setState);
    return () => {
      off();
      client.leave(room);
    };
  }, [client, room]);
  return store ? state : null;
}

export type Loaded<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ok"; value: T };

/** Runs `load` when `deps` change; the latest answer wins. `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: "loading" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setState({ status: "ok", value }),
      (err: unknown) => live && setState({ status: "error", message: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return [state, () => setTick((t) => t + 1)];
}
