/* pkgtwo.native._core (acceptance 2): a CPython extension module that is also a plain
 * library: pkgtwo/sub/deeper/_user NEEDs this file by name. It needs libpkghelper.so.1. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

const char *helper_text(void);

const char *core_text(void);
const char *core_text(void)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "core > %s", helper_text());
    return buf;
}

static PyObject *core_value(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    return PyUnicode_FromString(core_text());
}

static PyMethodDef core_methods[] = {
    {"value", core_value, METH_NOARGS, "what the core and its helper answer"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, core_methods,
                                         NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void);
PyMODINIT_FUNC PyInit__core(void)
{
    return PyModule_Create(&core_module);
}
