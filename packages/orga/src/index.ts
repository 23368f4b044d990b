/** @aruna/orga */
export {}
