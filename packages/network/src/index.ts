/** @aruna/network */
export {}
