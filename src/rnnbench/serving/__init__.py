"""Using what was trained: model files with what prediction needs, prediction on image files, export."""
